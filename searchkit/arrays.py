"""numpy work on postings: documents' scores as vectors, and where terms stand one
after another in a document (Han runs, words side by side).

A query's scores were dicts of document → score, built and combined by a Python
statement per document: at 100,000 documents, most of a query's time
(benchmarks/README.md). Here a `Scores` is one float per document of the snapshot
and a mask of the documents that match, and every sum is made in the order the
dicts made it, so the scores are the same to the last bit.

Sequences: a few candidate documents are checked one by one from their positions;
for many, the terms' whole position lists are laid out as arrays of (document,
position) keys and intersected at C speed.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import numpy

from .postings import FieldPostings

Vector = Any  # a numpy array; numpy's own types would make every signature a paragraph


class Scores:
    """The score of each document of one snapshot (numbered 0 to size - 1) and which
    documents match; a document can match with a score of 0.0 (a filter's), and
    one that does not match scores 0.0."""

    __slots__ = ("values", "matched")

    def __init__(self, values: Vector, matched: Vector) -> None:
        self.values = values
        self.matched = matched

    @classmethod
    def none(cls, size: int) -> Scores:
        return cls(numpy.zeros(size), numpy.zeros(size, dtype=bool))

    @classmethod
    def of(cls, size: int, documents: Iterable[int] | Vector, score: float | Vector = 0.0) -> Scores:
        """`documents` (numbers, or a mask), each with `score` (one, or one each)."""
        if not isinstance(documents, numpy.ndarray):
            documents = numpy.fromiter(documents, dtype=numpy.int64)
        scores = cls.none(size)
        scores.values[documents] = score
        scores.matched[documents] = True
        return scores

    def __len__(self) -> int:
        return int(numpy.count_nonzero(self.matched))

    def __bool__(self) -> bool:
        return bool(self.matched.any())

    def __contains__(self, docnum: object) -> bool:
        return isinstance(docnum, int) and 0 <= docnum < len(self.matched) and bool(self.matched[docnum])

    def __getitem__(self, docnum: int) -> float:
        if docnum not in self:
            raise KeyError(docnum)
        return float(self.values[docnum])

    def get(self, docnum: int, default: float = 0.0) -> float:
        return float(self.values[docnum]) if docnum in self else default

    def documents(self) -> Vector:
        """The matching documents' numbers, in order."""
        return numpy.flatnonzero(self.matched)

    def __iter__(self) -> Iterator[int]:
        return iter(self.documents().tolist())

    def items(self) -> Iterator[tuple[int, float]]:
        documents = self.documents()
        return zip(documents.tolist(), self.values[documents].tolist(), strict=True)

    def scaled(self, weight: float) -> Scores:
        return Scores(self.values * weight, self.matched.copy())

    def only(self, mask: Vector) -> Scores:
        """The documents of these scores that are also in `mask`."""
        matched = self.matched & mask
        return Scores(numpy.where(matched, self.values, 0.0), matched)

    def on(self, mask: Vector) -> Scores:
        """These scores at the documents of `mask`, and only there (0.0 where they have none)."""
        return Scores(numpy.where(mask, self.values, 0.0), mask.copy())

    def add(self, source: Scores, weight: float = 1.0) -> None:
        """Add `source`'s documents and scores (times `weight`) to these."""
        self.values += source.values if weight == 1.0 else source.values * weight
        self.matched |= source.matched

    def lift(self, bonuses: Scores) -> None:
        """Add `bonuses` to the documents already here, and to no other."""
        self.values += numpy.where(self.matched, bonuses.values, 0.0)

    def remove(self, mask: Vector) -> None:
        self.matched &= ~mask
        self.values[mask] = 0.0

    def highest(self) -> float:
        return float(self.values[self.matched].max()) if self else 0.0

    def at_least(self, score: float, among: Vector | None = None) -> list[int]:
        """The documents scoring `score` or more (`among` a mask of some)."""
        found = self.matched & (self.values >= score)
        return numpy.flatnonzero(found if among is None else found & among).tolist()

    def best(self, count: int) -> list[int]:
        """The documents scoring at least the `count`-th best score (ties included),
        so the page can be ordered from them alone."""
        documents = self.documents()
        if len(documents) <= count:
            return documents.tolist()  # type: ignore[no-any-return]
        values = self.values[documents]
        lowest = numpy.partition(values, len(values) - count)[len(values) - count]
        return documents[values >= lowest].tolist()  # type: ignore[no-any-return]


def union(parts: list[Scores], size: int) -> Scores:
    """Documents in any part, their scores summed: the largest part first, as the
    dicts were, so that the sums are the same."""
    ordered = sorted(parts, key=len, reverse=True)
    if not ordered:
        return Scores.none(size)
    total = Scores(ordered[0].values.copy(), ordered[0].matched.copy())
    for part in ordered[1:]:
        total.add(part)
    return total


def intersection(parts: list[Scores], size: int) -> Scores:
    """Documents in every part, their scores summed, the smallest part first."""
    ordered = sorted(parts, key=len)
    if not ordered:
        return Scores.none(size)
    matched = ordered[0].matched.copy()
    values = ordered[0].values.copy()
    for part in ordered[1:]:
        matched &= part.matched
        values += part.values
    return Scores(numpy.where(matched, values, 0.0), matched)


def coordination(total: Scores, required: list[Scores], power: float) -> tuple[Scores, bool]:
    """Partial matches scaled by (the share of the `required` parts each is in) **
    `power`, and whether every one of them is in all the parts."""
    counts = numpy.zeros(len(total.matched), dtype=numpy.int64)
    for part in required:
        counts += part.matched
    factors = numpy.array([(matched / len(required)) ** power for matched in range(len(required) + 1)])
    complete = bool((counts[total.matched] == len(required)).all())
    return Scores(total.values * factors[counts], total.matched.copy()), complete


def mask(size: int, documents: Iterable[int] | Vector) -> Vector:
    found = numpy.zeros(size, dtype=bool)
    found[documents if isinstance(documents, numpy.ndarray) else numpy.fromiter(documents, dtype=numpy.int64)] = True
    return found


def everything(size: int) -> Vector:
    return numpy.ones(size, dtype=bool)


def joined(parts: list[Vector]) -> Vector:
    return numpy.concatenate(parts) if parts else numpy.zeros(0, dtype=numpy.int64)


def vector(values: Iterable[float] | Iterable[int], dtype: Any = numpy.float64) -> Vector:
    return numpy.asarray(values if isinstance(values, list) else list(values), dtype=dtype)


_NO_DOCUMENTS = numpy.zeros(0, dtype=numpy.int64)
_NO_DOCUMENTS.flags.writeable = False


def postings(table: FieldPostings, term: str) -> tuple[Vector, Vector | None]:
    """The documents (local numbers) holding `term` in one segment's field, and the
    term's frequency in each (None for a field without positions)."""
    found = table.run(term)
    if found is None:
        return _NO_DOCUMENTS, None
    block, start, count = found
    run = numpy.frombuffer(block, dtype=numpy.uint32, count=2 * count if table.positional else count, offset=4 * start)
    documents = numpy.cumsum(run[:count], dtype=numpy.int64)
    return documents, run[count:].astype(numpy.float64) if table.positional else None


def common(lists: list[Vector]) -> Vector:
    """The documents in every one of the sorted `lists`, rarest first."""
    found = lists[0]
    for documents in lists[1:]:
        if not found.size:
            break
        found = numpy.intersect1d(found, documents, assume_unique=True)
    return found


# ---- sequences ----------------------------------------------------------------------------

# Candidates from which the arrays pay for themselves; below, document by document.
MANY_CANDIDATES = 64
# A key is document << 33 | position: positions are uint32, so a key shifted back by
# a run's length never reaches the previous document's keys.
_POSITION_BITS = 33


def sequence_starts(table: FieldPostings, terms: list[str], wanted: Vector) -> tuple[Vector, Vector]:
    """The documents (among the sorted local numbers `wanted`, of `table`'s segment)
    where `terms` stand one after another in the field, and the first position at
    which they do in each."""
    if not len(wanted) or not terms:
        return numpy.zeros(0, dtype=numpy.int64), numpy.zeros(0, dtype=numpy.int64)
    if len(wanted) < MANY_CANDIDATES:
        found = _one_by_one(table, terms, set(wanted.tolist()))
        documents = sorted(found)
        return vector(documents, numpy.int64), vector([found[d] for d in documents], numpy.int64)
    return _as_arrays(table, terms, wanted)


def _one_by_one(table: FieldPostings, terms: list[str], wanted: set[int]) -> dict[int, int]:
    positions = [table.positions(term, wanted) for term in terms]
    found: dict[int, int] = {}
    for docnum in wanted:
        starts = set(positions[0].get(docnum, ()))
        for shift, of_term in enumerate(positions[1:], 1):
            if not starts:
                break
            starts.intersection_update(p - shift for p in of_term.get(docnum, ()))
        if starts:
            found[docnum] = min(starts)
    return found


def _as_arrays(table: FieldPostings, terms: list[str], wanted: Vector) -> tuple[Vector, Vector]:
    chosen = numpy.asarray(wanted, dtype=numpy.int64)
    nothing = numpy.zeros(0, dtype=numpy.int64)
    found = None
    for shift, term in enumerate(terms):
        occurrences = table.occurrences(term)
        if occurrences is None:
            return nothing, nothing
        keys = _keys(*occurrences, chosen) - shift
        found = keys if found is None else found[_sorted_in(found, keys)]
        if not found.size:
            return nothing, nothing
    assert found is not None
    documents = found >> _POSITION_BITS
    first = numpy.flatnonzero(numpy.diff(documents, prepend=-1))  # keys are sorted: a document's first start
    return documents[first], found[first] & ((1 << _POSITION_BITS) - 1)


def _sorted_in(values: Vector, among: Vector) -> Vector:
    """A mask of the `values` found in the sorted `among`."""
    at = numpy.searchsorted(among, values)
    return among[numpy.minimum(at, len(among) - 1)] == values if len(among) else numpy.zeros(len(values), bool)


def _keys(documents: list[int], frequencies: array[int], deltas: array[int], chosen: Vector) -> Vector:
    """document << 33 | position for every position of a term in the `chosen`
    documents, sorted. Positions are deltas restarting at each document."""
    counts = numpy.frombuffer(frequencies, dtype=numpy.uint32).astype(numpy.int64)
    running = numpy.cumsum(numpy.frombuffer(deltas, dtype=numpy.uint32), dtype=numpy.int64)
    ends = numpy.cumsum(counts)
    before = numpy.zeros(len(counts), dtype=numpy.int64)
    before[1:] = running[ends[:-1] - 1]  # where the previous document's positions ended
    numbers = numpy.asarray(documents, dtype=numpy.int64)
    keep = numpy.repeat(numpy.isin(numbers, chosen, assume_unique=True), counts)
    keys = (numpy.repeat(numbers, counts) << _POSITION_BITS) + (running - numpy.repeat(before, counts))
    return keys[keep]
