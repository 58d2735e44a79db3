"""Where terms stand one after another in a document: Han runs (bigrams at consecutive
character offsets) and words side by side (consecutive word positions).

A few candidate documents are checked one by one from their positions. For many, the
terms' whole position lists are laid out as numpy arrays of (document, position)
keys and intersected at C speed: one document at a time in Python was most of a
common run's query time on large vaults (benchmarks/README.md). numpy is imported
on the first such query, so a search that needs none (a cold `searchkit query` on
a small vault) does not pay for its import.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection
from typing import Any

from .postings import FieldPostings

# Candidates from which the arrays pay for themselves; below, document by document.
MANY_CANDIDATES = 64
# A key is document << 33 | position: positions are uint32, so a key shifted back by
# a run's length never reaches the previous document's keys.
_POSITION_BITS = 33


def sequence_starts(table: FieldPostings, terms: list[str], wanted: Collection[int]) -> dict[int, int]:
    """Document number (among `wanted`, of `table`'s segment) → the first position at
    which `terms` stand one after another in the field."""
    if not wanted or not terms:
        return {}
    if len(wanted) < MANY_CANDIDATES:
        return _one_by_one(table, terms, set(wanted))
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


def _as_arrays(table: FieldPostings, terms: list[str], wanted: Collection[int]) -> dict[int, int]:
    import numpy

    chosen = numpy.fromiter(wanted, dtype=numpy.int64, count=len(wanted))
    chosen.sort()
    common = None
    for shift, term in enumerate(terms):
        occurrences = table.occurrences(term)
        if occurrences is None:
            return {}
        keys = _keys(numpy, *occurrences, chosen) - shift
        common = keys if common is None else numpy.intersect1d(common, keys)
        if not common.size:
            return {}
    assert common is not None
    documents = common >> _POSITION_BITS
    first = numpy.flatnonzero(numpy.diff(documents, prepend=-1))  # keys are sorted: a document's first start
    starts = common[first] & ((1 << _POSITION_BITS) - 1)
    return dict(zip(documents[first].tolist(), starts.tolist(), strict=True))


def _keys(numpy: Any, documents: list[int], frequencies: array[int], deltas: array[int], chosen: Any) -> Any:
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
