"""Scoring: BM25F of terms, phrases and substrings, read straight from Whoosh postings.

Scores are computed term at a time: for each query term and field, the postings are
read block by block and the scores summed per document in a dict. Whoosh's own
matcher tree does the same work through layers of Python objects per posting and is
many times slower on the multi-field, multi-term queries searchkit builds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh import query as wq
from whoosh.reading import TermNotFound

from .analysis import is_han, iter_tokens, substring_grams
from .errors import QueryError

# Weight of each text field in the BM25F sum.
FIELD_WEIGHTS: dict[str, float] = {"title": 1.0, "tags": 1.0, "summary": 1.0, "body": 1.0}
GRAMS_FIELD = "grams"
BM25_K1 = 0.9
BM25_B = 0.4
# A Han string found only as a substring (cut differently in the text, or part of a
# longer word) scores with this weight; word matches rank above.
SUBSTRING_WEIGHT = 0.5
# Neighbouring query words whose junction bigram occurs in the document are likely
# side by side there too, as in the query.
ADJACENCY_WEIGHT = 0.5
# A word found in more than this share of documents (的, 是) says little on its own.
COMMON_SHARE = 0.5

Scores = dict[int, float]


def add_into(target: Scores, source: Scores, weight: float = 1.0) -> None:
    for docnum, score in source.items():
        target[docnum] = target.get(docnum, 0.0) + score * weight


def union(parts: Iterable[Scores]) -> Scores:
    total: Scores = {}
    for part in parts:
        add_into(total, part)
    return total


def intersection(parts: list[Scores]) -> Scores:
    if not parts:
        return {}
    smallest = min(parts, key=len)
    common = set(smallest).intersection(*parts)
    return {docnum: sum(part[docnum] for part in parts) for docnum in common}


class Ranker:
    """BM25F scores of terms, phrases and substrings on one open searcher.

    Postings are read once per (field, term) and kept for the ranker's life.
    """

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.doc_count = max(searcher.doc_count_all(), 1)
        self.live_count = max(searcher.doc_count(), 1)
        # what depends only on the searcher is kept with it, so that later searches on
        # the same commit reuse it: deleted documents, field lengths (read one posting
        # at a time), whole columns
        self._cache: dict[str, Any] = searcher.__dict__.setdefault("_searchkit_cache", {})
        if "deleted" not in self._cache:
            reader = searcher.reader()
            self._cache["deleted"] = (
                set(range(searcher.doc_count_all())) - set(reader.all_doc_ids())
                if reader.has_deletions()
                else None
            )
        self._deleted: set[int] | None = self._cache["deleted"]
        self._lengths: dict[str, dict[int, int]] = self._cache.setdefault("lengths", {})
        self._term_scores: dict[tuple[str, str], Scores] = {}
        self._average_length: dict[str, float] = {}

    # -- raw postings and BM25 --

    def postings(self, fieldname: str, text: str) -> Iterator[tuple[int, float]]:
        """(docnum, term frequency) of every live document containing the term."""
        for subsearcher, offset in self.searcher.leaf_searchers():
            try:
                matcher = subsearcher.reader().postings(fieldname, text)
            except TermNotFound:
                continue
            for docnum, weight in _matcher_items(matcher):
                docnum += offset
                if self._deleted is None or docnum not in self._deleted:
                    yield docnum, weight

    def document_frequency(self, fieldname: str, text: str) -> int:
        return int(self.searcher.doc_frequency(fieldname, text))

    def term(self, fieldname: str, text: str) -> Scores:
        """BM25 of a term in one field, per document (unweighted)."""
        key = (fieldname, text)
        cached = self._term_scores.get(key)
        if cached is not None:
            return cached
        frequency = self.document_frequency(fieldname, text)
        scores: Scores = {}
        if frequency:
            idf = math.log(self.doc_count / (frequency + 1)) + 1
            average = self._average(fieldname)
            lengths = self._field_lengths(fieldname)
            length_of = self.searcher.doc_field_length
            norm_base = BM25_K1 * (1 - BM25_B)
            norm_scale = BM25_K1 * BM25_B / average
            for docnum, tf in self.postings(fieldname, text):
                length = lengths.get(docnum)
                if length is None:
                    length = lengths[docnum] = length_of(docnum, fieldname, 1)
                scores[docnum] = idf * tf * (BM25_K1 + 1) / (tf + norm_base + norm_scale * length)
        self._term_scores[key] = scores
        return scores

    def _average(self, fieldname: str) -> float:
        if fieldname not in self._average_length:
            self._average_length[fieldname] = self.searcher.avg_field_length(fieldname) or 1.0
        return self._average_length[fieldname]

    def _field_lengths(self, fieldname: str) -> dict[int, int]:
        return self._lengths.setdefault(fieldname, {})

    # -- query units --

    def word(self, token: str) -> Scores:
        """A token as a word in any text field, weighted per field."""
        total: Scores = {}
        for fieldname, weight in FIELD_WEIGHTS.items():
            add_into(total, self.term(fieldname, token), weight)
        return total

    def substring(self, text: str) -> Scores:
        """Documents where the normalised Han string occurs (approximately: all of its
        bigrams occur), scored by the bigrams' BM25, weighted down."""
        if len(text) == 1:
            return self._character(text)
        parts = [self.term(GRAMS_FIELD, gram) for gram in substring_grams(text)]
        matched = intersection(parts)
        scale = SUBSTRING_WEIGHT
        return {docnum: score * scale for docnum, score in matched.items()}

    def _character(self, char: str) -> Scores:
        total: Scores = {}
        reader = self.searcher.reader()
        for gram in reader.expand_prefix(GRAMS_FIELD, char):
            gram_text = gram.decode("utf-8") if isinstance(gram, bytes) else gram
            for docnum in self.term(GRAMS_FIELD, gram_text):
                total[docnum] = SUBSTRING_WEIGHT
        return total

    def token(self, token: str, *, alone: bool) -> Scores:
        """A query token: as a word, and (Han, two or more characters, or typed alone)
        as a substring."""
        scores = self.word(token)
        if is_han(token) and (len(token) > 1 or alone):
            scores = union([scores, self.substring(token)])
        return scores

    def phrase(self, text: str) -> Scores:
        """Documents with the words of `text` side by side. Han characters typed
        without spaces (「河西文化」) also match where that string occurs but was cut
        into words differently."""
        tokens = [t for t, _, _, _ in iter_tokens(text, query=True)]
        if len(tokens) == 1:
            return self.token(tokens[0], alone=True)
        joined = "".join(tokens)
        substring = self.substring(joined) if is_han(text.strip()) else {}
        matched: set[int] = set(substring)
        for fieldname in FIELD_WEIGHTS:
            query = wq.Phrase(fieldname, tokens)
            matcher = query.matcher(self.searcher, self.searcher.boolean_context())
            while matcher.is_active():
                docnum = matcher.id()
                if self._deleted is None or docnum not in self._deleted:
                    matched.add(docnum)
                matcher.next()
        words = union([*(self.word(token) for token in tokens), substring])
        return {docnum: words.get(docnum, 0.0) for docnum in matched}

    def adjacency(self, left: str, right: str) -> Scores:
        scores = self.term(GRAMS_FIELD, left[-1] + right[0])
        return {docnum: score * ADJACENCY_WEIGHT for docnum, score in scores.items()}

    def all_documents(self) -> Scores:
        return dict.fromkeys(self.searcher.reader().all_doc_ids(), 0.0)

    def cards(self) -> dict[int, dict[str, Any]]:
        """Date, title, tags, author and source of every live document."""
        return self._column("card", lambda raw: json.loads(raw) if raw else {})

    def paths(self) -> dict[int, str]:
        """The path of every live document."""
        return self._column("path", lambda path: path)

    def is_common(self, token: str) -> bool:
        limit = COMMON_SHARE * self.live_count
        return any(self.document_frequency(name, token) > limit for name in FIELD_WEIGHTS)

    def _column(self, name: str, decode: Any) -> dict[int, Any]:
        """A column's decoded value for every live document, read once per searcher."""
        cache = self._cache.setdefault("columns", {})
        if name not in cache:
            values = {}
            for subsearcher, offset in self.searcher.leaf_searchers():
                reader = subsearcher.reader()
                if not reader.doc_count_all():
                    continue
                column = reader.column_reader(name)
                for docnum in reader.all_doc_ids():
                    values[docnum + offset] = decode(column[docnum])
            cache[name] = values
        return cache[name]

    def filter(self, name: str, value: str, query: str) -> Scores:
        """Documents passing a `name:value` filter; title: also scores."""
        if name == "title":
            tokens = [t for t, _, _, _ in iter_tokens(value, query=True)]
            if not tokens:
                raise QueryError(query, f"nothing searchable in title:{value}")
            return intersection([self.term("title", token) for token in tokens])
        if name in ("tag", "author", "source"):
            return dict.fromkeys((d for d, _ in self.postings(name, value.strip().lower())), 0.0)
        if name == "path":
            prefix = value.strip().lstrip("/")
            paths = self.paths()
            return {d: 0.0 for d, path in paths.items() if path.startswith(prefix)}
        accept = date_predicate(value, query)
        return {d: 0.0 for d, card in self.cards().items() if card.get("date") and accept(card["date"])}



_DATE_VALUE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def date_predicate(spec: str, query: str) -> Any:
    """A test on ISO dates for `date:` filters: 2024, 2024-07, 2024-07-01,
    2023-05..2023-11 (inclusive; either end may be left open), >=, >, <=, <."""
    spec = spec.strip()
    for operator in (">=", "<=", ">", "<"):
        if spec.startswith(operator):
            bound = _date_bound(spec[len(operator) :], spec, query)
            return {
                ">=": lambda d: d >= bound,
                ">": lambda d: d[: len(bound)] > bound,
                "<=": lambda d: d[: len(bound)] <= bound,
                "<": lambda d: d < bound,
            }[operator]
    if ".." in spec:
        low_text, high_text = spec.split("..", 1)
        low = _date_bound(low_text, spec, query) if low_text else ""
        high = _date_bound(high_text, spec, query) if high_text else ""
        return lambda d: d >= low and (not high or d[: len(high)] <= high)
    bound = _date_bound(spec, spec, query)
    return lambda d: d.startswith(bound)


def _date_bound(text: str, spec: str, query: str) -> str:
    text = text.strip()
    valid = bool(_DATE_VALUE.match(text))
    if valid:
        parts = [int(p) for p in text.split("-")]
        valid = (len(parts) < 2 or 1 <= parts[1] <= 12) and (len(parts) < 3 or 1 <= parts[2] <= 31)
    if not valid:
        raise QueryError(
            query,
            f"invalid date {spec!r}; use 2024, 2024-07, 2024-07-01, 2023-05..2023-11 or >=2024-01-01",
        )
    return text


def _matcher_items(matcher: Any) -> Iterator[tuple[int, float]]:
    """(docnum, weight) pairs of a Whoosh leaf matcher, a block at a time where the
    codec allows (W3LeafMatcher), else one posting at a time."""
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            yield from zip(matcher._ids, matcher._weights, strict=False)
            matcher._next_block()
        return
    while matcher.is_active():
        yield matcher.id(), matcher.weight()
        matcher.next()
