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
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy

from . import blocks
from .postings import FieldPostings, SegmentPostings, field_sections, write_file
from .terms import FixedWidthTerms

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


def common(lists: Iterable[Vector]) -> Vector:
    """The documents in every one of the sorted `lists`, rarest first; a list is
    taken from `lists` only while some documents remain (a generator decodes no more
    postings once the intersection is empty)."""
    found: Vector | None = None
    for documents in lists:
        if found is None:
            found = documents
        elif not found.size:
            break
        else:
            found = numpy.intersect1d(found, documents, assume_unique=True)
    return _NO_DOCUMENTS if found is None else found


def running_sums(deltas: Vector, counts: Vector) -> Vector:
    """Cumulative sums of `deltas` restarting at each of the consecutive runs of
    `counts` values: each run's deltas made back into its values."""
    running = numpy.cumsum(deltas, dtype=numpy.int64)
    before = numpy.concatenate(([0], running))[_starts(counts)]  # the sum of the runs before
    return running - numpy.repeat(before, counts)


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
    positions = running_sums(numpy.frombuffer(deltas, dtype=numpy.uint32), counts)
    numbers = numpy.asarray(documents, dtype=numpy.int64)
    keep = numpy.repeat(numpy.isin(numbers, chosen, assume_unique=True), counts)
    keys = (numpy.repeat(numbers, counts) << _POSITION_BITS) + positions
    return keys[keep]


# ---- merging whole segments -----------------------------------------------------------------

# Values of a stream gathered at once while merging: bounds the merge's memory.
MERGE_CHUNK_VALUES = 1 << 18


def merge_postings(sources: list[SegmentPostings], path: Path) -> None:
    """Write to `path` one postings file holding every document of `sources` (whole
    segments, nothing deleted), one segment after another: what
    `PostingsWriter.add_segment` writes, built with array operations instead of a
    Python statement per posting (a build's segments are merged this way)."""
    starts = numpy.cumsum([0, *(source.doc_count for source in sources)])
    with ThreadPoolExecutor(2) as pool:  # zlib lets go of the GIL: two blocks compress at once
        fields = {
            name: partial(_merged_field, tables=[s.read_field(name) for s in sources], starts=starts[:-1], pool=pool)
            for name in sources[0].field_names()
        }
        write_file(path, int(starts[-1]), fields)


@dataclass
class _Source:
    """One segment's field, laid out for merging: the merged number of each of its
    terms, their document and position counts, and where their runs start."""

    start: int  # its first document's number in the merged segment
    numbers: Vector
    counts: Vector
    position_counts: Vector
    postings: Vector  # its postings stream: per term, document deltas, then frequencies
    positions: Vector
    run_starts: Vector
    position_starts: Vector


def _source(table: FieldPostings, numbers: Vector, start: int) -> _Source:
    counts = numpy.frombuffer(table.doc_counts, dtype=numpy.uint32).astype(numpy.int64)
    position_counts = numpy.frombuffer(table.position_counts, dtype=numpy.uint32).astype(numpy.int64)
    postings, positions = (numpy.frombuffer(values, dtype=numpy.uint32) for values in table.streams())
    return _Source(
        start, numbers, counts, position_counts, postings, positions, 2 * _starts(counts), _starts(position_counts)
    )


def _numbered_terms(tables: list[FieldPostings]) -> tuple[list[str] | FixedWidthTerms, list[Vector]]:
    """The terms of all `tables`, sorted, and the number among them of each table's
    terms. Fixed-width terms (the bigrams, most terms) are compared as integers of
    their characters, not made into hundreds of thousands of strings."""
    widths = {table.terms.width if isinstance(table.terms, FixedWidthTerms) else 0 for table in tables if table.terms}
    if len(widths) == 1 and 0 not in widths:
        width = widths.pop()
        codes = [_codes(table.terms, width) for table in tables]
        merged = numpy.unique(numpy.concatenate(codes))
        return FixedWidthTerms(_text_of(merged, width), width), [merged.searchsorted(code) for code in codes]
    term_lists = [table.all_terms() for table in tables]
    terms = sorted(set().union(*term_lists))
    number_of = {term: number for number, term in enumerate(terms)}
    numbers = [numpy.fromiter(map(number_of.__getitem__, listed), numpy.int64, len(listed)) for listed in term_lists]
    return terms, numbers


_CHARACTER_BITS = 21  # a code point fits in 21 bits


def _codes(terms: Any, width: int) -> Vector:
    if not isinstance(terms, FixedWidthTerms):
        return numpy.zeros(0, dtype=numpy.uint64)  # an empty table
    characters = numpy.frombuffer(terms.text.encode("utf-32-le"), dtype="<u4").reshape(-1, width)
    codes = numpy.zeros(len(characters), dtype=numpy.uint64)
    for column in range(width):
        codes = (codes << numpy.uint64(_CHARACTER_BITS)) | characters[:, column].astype(numpy.uint64)
    return codes


def _text_of(codes: Vector, width: int) -> str:
    shifts = [_CHARACTER_BITS * (width - 1 - column) for column in range(width)]
    mask = numpy.uint64((1 << _CHARACTER_BITS) - 1)
    characters = numpy.stack([(codes >> numpy.uint64(shift)) & mask for shift in shifts], axis=1)
    return characters.astype("<u4").tobytes().decode("utf-32-le")


def _merged_field(out: Any, *, tables: list[FieldPostings], starts: Vector, pool: Executor) -> dict[str, Any]:
    terms, numbers = _numbered_terms(tables)
    sources = [_source(table, number, int(start)) for table, number, start in zip(tables, numbers, starts, strict=True)]
    doc_counts = numpy.zeros(len(terms), dtype=numpy.int64)
    position_counts = numpy.zeros(len(terms), dtype=numpy.int64)
    for source in sources:  # a term is once in each source: no index repeats
        doc_counts[source.numbers] += source.counts
        position_counts[source.numbers] += source.position_counts
    written = (
        _write_stream(out, pool, 2 * doc_counts, partial(_postings_of, sources)),
        _write_stream(out, pool, position_counts, partial(_positions_of, sources)),
    )
    lengths = blocks.uint32()
    for table in tables:
        lengths.extend(table.lengths)
    return field_sections(
        out, tables[0].positional, terms, _uint32s(doc_counts), _uint32s(position_counts), written, lengths
    )


def _postings_of(sources: list[_Source], low: int, high: int) -> Vector:
    """The merged postings stream of terms `low` to `high` - 1: for each, the
    document deltas of every source in turn, then their frequencies."""
    parts = []
    for source in sources:
        first, end = source.numbers.searchsorted([low, high])
        if end > first:
            counts = source.counts[first:end]
            at = _ranges(source.run_starts[first:end], counts)
            documents = running_sums(source.postings[at], counts) + source.start
            frequencies = source.postings[at + numpy.repeat(counts, counts)]
            parts.append((source.numbers[first:end], counts, documents, frequencies))
    number, counts, documents, frequencies = (numpy.concatenate([part[i] for part in parts]) for i in range(4))
    order = numpy.argsort(number, kind="stable")  # by term; for each term, the sources in order
    gathered = _ranges(_starts(counts)[order], counts[order])
    documents, frequencies = documents[gathered], frequencies[gathered]
    per_term = numpy.bincount(number - low, weights=counts, minlength=high - low).astype(numpy.int64)
    run_first = _starts(per_term)
    deltas = numpy.diff(documents, prepend=0)
    deltas[run_first] = documents[run_first]  # a term's first document as it is
    stream = numpy.empty(2 * len(documents), dtype=numpy.uint32)
    at = _ranges(2 * run_first, per_term)
    stream[at] = deltas
    stream[at + numpy.repeat(per_term, per_term)] = frequencies
    return stream


def _positions_of(sources: list[_Source], low: int, high: int) -> Vector:
    """The merged positions stream of terms `low` to `high` - 1."""
    parts = []
    for source in sources:
        first, end = source.numbers.searchsorted([low, high])
        if end > first:
            counts = source.position_counts[first:end]
            positions = source.positions[_ranges(source.position_starts[first:end], counts)]
            parts.append((source.numbers[first:end], counts, positions))
    number, counts, positions = (numpy.concatenate([part[i] for part in parts]) for i in range(3))
    order = numpy.argsort(number, kind="stable")
    return positions[_ranges(_starts(counts)[order], counts[order])]


def _starts(counts: Vector) -> Vector:
    """Where each of consecutive runs of `counts` values starts."""
    return numpy.cumsum(counts) - counts


def _ranges(starts: Vector, counts: Vector) -> Vector:
    """The indexes start, start + 1, … of runs of `counts` values at `starts`, joined."""
    return numpy.repeat(starts - _starts(counts), counts) + numpy.arange(int(counts.sum()), dtype=numpy.int64)


@dataclass
class _WrittenBlocks:
    first: array[int] = field(default_factory=blocks.uint32)  # each block's first term
    start: array[int] = field(default_factory=blocks.uint32)  # where each term's run starts in its block
    offsets: list[int] = field(default_factory=list)


def _block_plan(run_sizes: Vector) -> list[tuple[int, int]]:
    """The terms (first, end) of each block, cut as `blocks.BlockStream` cuts them: a
    block takes runs until it holds BLOCK_VALUES or more."""
    ends = numpy.cumsum(run_sizes)
    plan, first, base = [], 0, 0
    while first < len(run_sizes):
        end = min(int(numpy.searchsorted(ends, base + blocks.BLOCK_VALUES)), len(run_sizes) - 1) + 1
        plan.append((first, end))
        first, base = end, int(ends[end - 1])
    return plan


def _write_stream(out: Any, pool: Executor, run_sizes: Vector, values_of: Any) -> _WrittenBlocks:
    """Write a stream of runs of `run_sizes` values, one run per term, in blocks; the
    values of terms low to high - 1 come from `values_of(low, high)`, a few blocks'
    worth at a time."""
    starts = _starts(run_sizes)
    written = _WrittenBlocks()
    plan = _block_plan(run_sizes)
    while plan:
        chunk = [plan.pop(0)]
        while plan and starts[plan[0][1] - 1] + run_sizes[plan[0][1] - 1] - starts[chunk[0][0]] <= MERGE_CHUNK_VALUES:
            chunk.append(plan.pop(0))
        low, high = chunk[0][0], chunk[-1][1]
        values = values_of(low, high)
        parts = []
        for first, end in chunk:
            written.first.append(first)
            block_start = starts[first] - starts[low]
            parts.append(_uint32s(values[block_start : starts[end - 1] + run_sizes[end - 1] - starts[low]]))
        for packed in pool.map(blocks.pack, parts):
            written.offsets.append(out.tell())
            out.write(packed)
    written.offsets.append(out.tell())
    block_of_term = numpy.repeat(numpy.arange(len(written.first)), numpy.diff([*written.first, len(run_sizes)]))
    first_of_block = numpy.asarray(written.first, dtype=numpy.int64)
    written.start = _uint32s(starts - starts[first_of_block][block_of_term] if len(run_sizes) else starts)
    return written


def _uint32s(values: Vector) -> array[int]:
    return array("I", numpy.asarray(values, dtype=numpy.uint32).tobytes())
