"""Scoring: BM25F of terms, phrases and substrings, from searchkit's postings files.

Scores are computed term at a time: for each query term and field, each segment's
postings are read as arrays and the scores summed per document in a dict. Whoosh's
own matcher tree does the same work through layers of Python objects per posting
and is many times slower on the multi-field, multi-term queries searchkit builds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh.reading import TermNotFound

from .analysis import is_han, iter_tokens, substring_grams
from .errors import IndexDamagedError, QueryError
from .postings import FIELDS, GRAMS_FIELD, SegmentPostings, postings_path

# Weight of each text field in the BM25F sum.
FIELD_WEIGHTS: dict[str, float] = {"title": 1.0, "tags": 1.0, "summary": 1.0, "body": 1.0}
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


# Score dicts hold tens of thousands of documents on large vaults: these combine them
# with dict copies, key-view intersections (which walk the smaller side) and
# comprehensions rather than a Python statement per document where they can.


def add_into(target: Scores, source: Scores, weight: float = 1.0) -> None:
    get = target.get
    if weight == 1.0:
        target.update({docnum: get(docnum, 0.0) + score for docnum, score in source.items()})
    else:
        target.update({docnum: get(docnum, 0.0) + score * weight for docnum, score in source.items()})


def union(parts: Iterable[Scores]) -> Scores:
    ordered = sorted(parts, key=len, reverse=True)
    if not ordered:
        return {}
    total = dict(ordered[0])
    for part in ordered[1:]:
        add_into(total, part)
    return total


def intersection(parts: list[Scores]) -> Scores:
    if not parts:
        return {}
    ordered = sorted(parts, key=len)
    common = ordered[0].keys()
    for part in ordered[1:]:
        common = common & part.keys()
    first = ordered[0]
    result = {docnum: first[docnum] for docnum in common}
    for part in ordered[1:]:
        result = {docnum: score + part[docnum] for docnum, score in result.items()}
    return result


class Ranker:
    """BM25F scores of terms, phrases and substrings on one open searcher.

    Postings are read once per (field, term) and kept for the ranker's life.
    """

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.doc_count = max(searcher.doc_count_all(), 1)
        self.live_count = max(searcher.doc_count(), 1)
        # what depends only on the searcher is kept with it, so that later searches on
        # the same commit reuse it: deleted documents, postings files, whole columns
        self._cache: dict[str, Any] = searcher.__dict__.setdefault("_searchkit_cache", {})
        if "deleted" not in self._cache:
            reader = searcher.reader()
            self._cache["deleted"] = (
                set(range(searcher.doc_count_all())) - set(reader.all_doc_ids())
                if reader.has_deletions()
                else None
            )
        self._deleted: set[int] | None = self._cache["deleted"]
        self._term_scores: dict[tuple[str, str], Scores] = {}
        self._average_length: dict[str, float] = {}

    # -- raw postings and BM25 --

    def segments(self) -> list[tuple[SegmentPostings, int]]:
        """The postings file of each segment, with the segment's first document number."""
        files = self._cache.get("postings")
        if files is None:
            files = []
            folder = self.searcher._ix.storage.folder  # the index the searcher was opened on
            for subsearcher, offset in self.searcher.leaf_searchers():
                reader = subsearcher.reader()
                if not reader.doc_count_all():
                    continue
                path = postings_path(folder, reader.segment())
                try:
                    files.append((SegmentPostings(path), offset))
                except (OSError, ValueError) as exc:
                    raise IndexDamagedError(path.parent, f"{path.name}: {exc}") from exc
            self._cache["postings"] = files
        return files

    def postings(self, fieldname: str, text: str) -> Iterator[tuple[int, float]]:
        """(docnum, weight) of every live document holding a Whoosh keyword (tag:,
        author:, source:)."""
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
        if fieldname in FIELDS:
            return sum(postings.field(fieldname).doc_frequency(text) for postings, _ in self.segments())
        return int(self.searcher.doc_frequency(fieldname, text))

    def _postings_of(self, fieldname: str, text: str) -> list[tuple[int, list[int], Any, Any]]:
        """(offset, documents, frequencies, table) of `text` in each segment holding it;
        their documents together are its document frequency (deleted ones included,
        as in Whoosh), so the term is looked up once per segment."""
        found = []
        for postings, offset in self.segments():
            table = postings.field(fieldname)
            documents, frequencies = table.documents(text)
            if documents:
                found.append((offset, documents, frequencies, table))
        return found

    def _idf(self, frequency: int) -> float:
        return math.log(self.doc_count / (frequency + 1)) + 1

    def term(self, fieldname: str, text: str) -> Scores:
        """BM25 of a term in one text field, per document (unweighted)."""
        key = (fieldname, text)
        cached = self._term_scores.get(key)
        if cached is not None:
            return cached
        found = self._postings_of(fieldname, text)
        scores: Scores = {}
        if found:
            weight = self._idf(sum(len(documents) for _, documents, _, _ in found)) * (BM25_K1 + 1)
            for offset, documents, frequencies, table in found:
                norms = self._norms(fieldname, table)
                if frequencies is None:
                    part = {local + offset: weight / (1 + norms[local]) for local in documents}
                else:
                    part = {
                        local + offset: weight * tf / (tf + norms[local])
                        for local, tf in zip(documents, frequencies, strict=True)
                    }
                scores.update(part)
            self._drop_deleted(scores)
        self._term_scores[key] = scores
        return scores

    def grams_together(self, grams: list[str], among: Scores | None = None) -> Scores:
        """Documents holding every one of `grams` (bigrams), optionally only those
        `among` a set of candidates, scored by the sum of the bigrams' BM25. The
        documents are intersected first, so a common bigram costs a set operation,
        not a score per posting."""
        found = [self._postings_of(GRAMS_FIELD, gram) for gram in grams]
        if not grams or not all(found):
            return {}
        weight = sum(self._idf(sum(len(d) for _, d, _, _ in each)) for each in found) * (BM25_K1 + 1)
        lists: dict[int, list[list[int]]] = {}
        tables: dict[int, Any] = {}
        for each in found:
            for offset, documents, _, table in each:
                lists.setdefault(offset, []).append(documents)
                tables[offset] = table
        scores: Scores = {}
        for offset, documents_of_grams in lists.items():
            if len(documents_of_grams) < len(grams):  # a bigram missing from this segment
                continue
            documents_of_grams.sort(key=len)
            common = set(documents_of_grams[0]).intersection(*documents_of_grams[1:])
            norms = self._norms(GRAMS_FIELD, tables[offset])
            if among is not None:
                common = {local for local in common if local + offset in among}
            scores.update({local + offset: weight / (1 + norms[local]) for local in common})
        self._drop_deleted(scores)
        return scores

    def _drop_deleted(self, scores: Scores) -> None:
        if self._deleted:
            for docnum in self._deleted.intersection(scores):
                del scores[docnum]

    def _norms(self, fieldname: str, table: Any) -> list[float]:
        """The length part of BM25's denominator for each document of one segment,
        kept with the segment's table (which lives as long as this searcher)."""
        norms: list[float] | None = getattr(table, "norms", None)
        if norms is None:
            # lengths rounded to one byte's precision, as Whoosh stored them: the ranking
            # was tuned with those (exact lengths: drcd MRR@10 -0.0002)
            from whoosh.util.numeric import byte_to_length, length_to_byte

            base = BM25_K1 * (1 - BM25_B)
            scale = BM25_K1 * BM25_B / self._average(fieldname)
            norms = table.norms = [base + scale * byte_to_length(length_to_byte(n)) for n in table.lengths]
        return norms

    def _average(self, fieldname: str) -> float:
        if fieldname not in self._average_length:
            total = sum(postings.field(fieldname).total_length for postings, _ in self.segments())
            self._average_length[fieldname] = total / self.doc_count or 1.0
        return self._average_length[fieldname]

    # -- query units --

    def word(self, token: str) -> Scores:
        """A token as a word in any text field, weighted per field."""
        if all(weight == 1.0 for weight in FIELD_WEIGHTS.values()):
            return union(self.term(fieldname, token) for fieldname in FIELD_WEIGHTS)
        total: Scores = {}
        for fieldname, weight in FIELD_WEIGHTS.items():
            add_into(total, self.term(fieldname, token), weight)
        return total

    def substring(self, text: str) -> Scores:
        """Documents where the normalised Han string occurs (approximately: all of its
        bigrams occur), scored by the bigrams' BM25, weighted down."""
        if len(text) == 1:
            return self._character(text)
        matched = self.grams_together(substring_grams(text))
        return {docnum: score * SUBSTRING_WEIGHT for docnum, score in matched.items()}

    def _character(self, char: str) -> Scores:
        grams = {gram for postings, _ in self.segments() for gram in postings.field(GRAMS_FIELD).with_prefix(char)}
        total: Scores = {}
        for gram in grams:
            for docnum in self.term(GRAMS_FIELD, gram):
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
            for postings, offset in self.segments():
                for local in _side_by_side(postings.field(fieldname), tokens):
                    docnum = local + offset
                    if self._deleted is None or docnum not in self._deleted:
                        matched.add(docnum)
        words = union([*(self.word(token) for token in tokens), substring])
        return {docnum: words.get(docnum, 0.0) for docnum in matched}

    def adjacency(self, left: str, right: str, among: Scores | None = None) -> Scores:
        scores = self.grams_together([left[-1] + right[0]], among)
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


def _side_by_side(table: Any, tokens: list[str]) -> Iterator[int]:
    """Documents of one segment where `tokens` occur at consecutive positions."""
    documents = [table.documents(token)[0] for token in tokens]
    if not all(documents):
        return
    candidates = set(min(documents, key=len)).intersection(*documents)
    if not candidates:
        return
    positions = [table.positions(token, candidates) for token in tokens]
    for docnum in sorted(candidates):
        starts = set(positions[0][docnum])
        for shift, found in enumerate(positions[1:], 1):
            starts.intersection_update(p - shift for p in found[docnum])
            if not starts:
                break
        if starts:
            yield docnum


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
