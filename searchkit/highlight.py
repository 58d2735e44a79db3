"""Snippets: find matched words in a document's text, pick the best sentences, mark them.

Two steps, like tantivy's Snippet: `match_ranges` gives character ranges into the
original text, `window_snippet` cuts a window of it into a `Snippet` (plain text and
the ranges in it), whose `html()` escapes and marks it. Escaping happens after
slicing, so offsets never shift; there is no length cap on the text searched.
"""

from __future__ import annotations

import html
import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from .analysis import WORD_CHAR_CLASS, normalize

SNIPPET_MAX_CHARS = 160
SNIPPET_MIN_CHARS = 50
_CONTEXT_BEFORE = 40

# A sentence ends after 。！？； (and closing quotes), after .!?; followed by a space,
# or at a line break.
_SENTENCE_END = re.compile(r"[。！？；]+[”’」』）)]*|[.!?;]+(?=\s|$)|\n+")
_NON_BLANK = re.compile(r"\S")


@dataclass(frozen=True, slots=True)
class SnippetSource:
    """A document's text made ready for snippets: folded once (normalize keeps
    offsets) and cut into its non-blank sentences once, however many queries it serves."""

    text: str
    folded: str
    starts: array[int]  # where each sentence starts and ends, in two arrays: a process keeps many
    ends: array[int]

    @classmethod
    def of(cls, text: str) -> SnippetSource:
        starts, ends = array("I"), array("I")
        for start, end in sentence_spans(text):
            if _NON_BLANK.search(text, start, end):
                starts.append(start)
                ends.append(end)
        return cls(text, normalize(text), starts, ends)


def match_ranges(text: str, terms: Iterable[str], folded: str | None = None) -> list[tuple[int, int]]:
    """Character ranges of `text` where any of the (normalised) `terms` occurs
    (`folded` is `normalize(text)`, when the caller has it): leftmost first, the
    longest term where several start at one place, neighbours joined into one.

    Han terms match anywhere; Latin and digit terms only as whole words, so `r`
    marks "R" but not the r of "Rust".
    """
    haystack = normalize(text) if folded is None else folded
    found: list[tuple[int, int]] = []
    for term in {term for term in terms if term}:
        word_start, word_end = bool(_WORD_CHAR.match(term[0])), bool(_WORD_CHAR.match(term[-1]))
        at = haystack.find(term)
        while at >= 0:
            end = at + len(term)
            if not (word_start and at > 0 and _WORD_CHAR.match(haystack[at - 1])) and not (
                word_end and end < len(haystack) and _WORD_CHAR.match(haystack[end])
            ):
                found.append((at, end))
            at = haystack.find(term, at + 1)
    found.sort(key=lambda span: (span[0], -span[1]))
    merged: list[tuple[int, int]] = []
    covered = 0
    for start, end in found:
        if start < covered:  # inside the match before it, as a regex scan would skip it
            continue
        if merged and merged[-1][1] == start:  # 提示|词 side by side: one mark
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
        covered = end
    return merged


_WORD_CHAR = re.compile(WORD_CHAR_CLASS)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for end_mark in _SENTENCE_END.finditer(text):
        if end_mark.end() > start:
            spans.append((start, end_mark.end()))
        start = end_mark.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@dataclass(frozen=True, slots=True)
class Snippet:
    """A window of a document's text on one line, with the character ranges of the
    matched words in it (offsets into `text`)."""

    text: str
    ranges: tuple[tuple[int, int], ...] = ()

    def html(self) -> str:
        """`text` HTML-escaped, with `<mark>` around the ranges."""
        pieces = []
        cursor = 0
        for start, end in self.ranges:
            pieces.append(html.escape(self.text[cursor:start]))
            pieces.append(f"<mark>{html.escape(self.text[start:end])}</mark>")
            cursor = end
        pieces.append(html.escape(self.text[cursor:]))
        return "".join(pieces)


def cut_snippet(text: str | SnippetSource, terms: Iterable[str]) -> Snippet:
    """One or two sentences of `text` around the best matches, with the ranges of
    matched words.

    >>> cut_snippet("前言。好莱坞编剧罢工持续了一百多天。后记", ["罢工"])
    Snippet(text='好莱坞编剧罢工持续了一百多天。后记', ranges=((5, 7),))
    """
    source = text if isinstance(text, SnippetSource) else SnippetSource.of(text)
    ranges = match_ranges(source.text, terms, source.folded)
    window = _best_window(source, ranges)
    return window_snippet(source.text, ranges, window)


def make_snippet(text: str, terms: Iterable[str]) -> str:
    """`cut_snippet` as HTML.

    >>> make_snippet("前言。好莱坞编剧罢工持续了一百多天。后记", ["罢工"])
    '好莱坞编剧<mark>罢工</mark>持续了一百多天。后记'
    """
    return cut_snippet(text, terms).html()


def _best_window(source: SnippetSource, ranges: list[tuple[int, int]]) -> tuple[int, int]:
    text, starts, ends = source.text, source.starts, source.ends
    if not starts:
        return 0, 0
    # no match to show (a title-only match, a filter, a related document): start at the
    # first sentence long enough to say something, not at a label like "一句话总结"
    spans = enumerate(zip(starts, ends, strict=True))
    best = next((i for i, (start, end) in spans if end - start >= SNIPPET_MIN_CHARS // 2), 0)
    if ranges:
        # only the sentences holding a match can be best (a match never spans two: no
        # term holds a line break or a sentence end followed by a space)
        found: dict[int, list[str]] = {}
        for match_start, match_end in ranges:
            index = bisect_right(starts, match_start) - 1
            if index >= 0 and match_start < ends[index]:
                found.setdefault(index, []).append(source.folded[match_start:match_end])
        best_score = (-1, -1)
        for index in sorted(found):
            inside = found[index]
            # the most of the query shown: distinct matched characters, then matches
            score = (sum(map(len, set(inside))), len(inside))
            if score > best_score:
                best, best_score = index, score
    start, end = starts[best], ends[best]
    if end - start < SNIPPET_MIN_CHARS and len(starts) > 1:
        if best + 1 < len(starts):
            end = ends[best + 1]
        else:
            start = starts[best - 1]
    start, end = _strip(text, start, end)
    if end - start > SNIPPET_MAX_CHARS:
        first_match = next((r[0] for r in ranges if start <= r[0] < end), start)
        crop_start = max(start, first_match - _CONTEXT_BEFORE)
        start, end = crop_start, min(end, crop_start + SNIPPET_MAX_CHARS)
        # never end inside a match
        for match_start, match_end in ranges:
            if match_start < end < match_end:
                end = match_end
    return start, end


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def window_snippet(text: str, ranges: list[tuple[int, int]], window: tuple[int, int]) -> Snippet:
    """`text[window]` on one line, "…" where it cuts a sentence, with the ranges inside it."""
    window_start, window_end = window
    pieces = []
    marks = []
    length = 0

    def add(piece: str) -> None:
        nonlocal length
        pieces.append(piece)
        length += len(piece)

    if window_start > 0 and not _SENTENCE_END.match(text, window_start - 1):
        add("…")
    cursor = window_start
    for start, end in ranges:
        start, end = max(start, window_start), min(end, window_end)
        if start >= end or start < cursor:
            continue
        add(_one_line(text[cursor:start]))
        marks.append((length, length + end - start))
        add(text[start:end])
        cursor = end
    add(_one_line(text[cursor:window_end]))
    if window_end < len(text) and not _SENTENCE_END.match(text, window_end - 1):
        add("…")
    return Snippet("".join(pieces), tuple(marks))


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)
