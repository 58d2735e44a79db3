"""searchkit's own postings: which documents hold each word, how often, and where.

Whoosh keeps the documents (stored fields, columns, filter keywords, deletions) and
the segments a commit is made of. The postings of the text fields live beside each
Whoosh segment in one file, `<segment>.skp`, built in memory as arrays and written
in one pass: Whoosh's own writer pickles, sorts and merges every posting in Python,
which was two thirds of a build and made the index twice the textbook's size
(figures in benchmarks/README.md).

File layout: a magic line, then compressed blocks of little-endian uint32 runs, then
per-field tables, then a JSON header, then the header's offset (8 bytes). Each field
has two streams of blocks: one holds each term's document-number deltas and its
frequencies, the other its position deltas, restarting at each document (word
positions in the text fields, character offsets for the Han bigrams).
"""

from __future__ import annotations

import json
import mmap
import os
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property, partial
from itertools import accumulate, chain
from operator import sub
from pathlib import Path
from typing import Any

from .blocks import COMPRESSION, BlockReader, BlockStream, pack, to_bytes, uint32, unpack
from .terms import FixedWidthTerms, bisect_terms

MAGIC = b"searchkit-postings 3\n"
SUFFIX = ".skp"
GRAMS_FIELD = "grams"
FIXED_WIDTH = 2
def _deltas(values: Sequence[int]) -> Iterator[int]:
    return map(sub, values, chain((0,), values))


class FieldBuilder:
    """The postings of one field while a segment is written."""

    def __init__(self, positional: bool) -> None:
        self.positional = positional
        # term -> (documents, frequencies, position deltas) or, without positions, documents
        self.terms: dict[str, Any] = {}
        self.lengths = uint32()

    def add_tokens(self, docnum: int, tokens: Iterable[tuple[str, int]]) -> None:
        seen: dict[str, list[int]] = {}
        count = 0
        for term, position in tokens:
            count += 1
            positions = seen.get(term)
            if positions is None:
                seen[term] = [position]
            else:
                positions.append(position)
        self.lengths.append(count)
        for positions in seen.values():
            if len(positions) > 1:
                positions.sort()
        self._add_positions(docnum, seen)

    def add_grams(self, docnum: int, grams: Mapping[str, list[int]]) -> None:
        """A document's bigrams with their sorted offsets; its length is the number of
        distinct bigrams (a bigram scores by presence, not frequency)."""
        self.lengths.append(len(grams))
        self._add_positions(docnum, grams)

    def _add_positions(self, docnum: int, positions_of: Mapping[str, list[int]]) -> None:
        terms = self.terms
        for term, positions in positions_of.items():
            entry = terms.get(term)
            if entry is None:
                entry = terms[term] = (uint32(), uint32(), uint32())
            entry[0].append(docnum)
            entry[1].append(len(positions))
            entry[2].extend(_deltas(positions))

    def add_term(self, term: str, documents: list[int], frequencies: list[int], positions: list[int]) -> None:
        """Postings of a term from another segment (merging), already renumbered."""
        entry: Any = self.terms.get(term)
        if entry is None:
            entry = self.terms[term] = (uint32(), uint32(), uint32()) if self.positional else uint32()
        if self.positional:
            entry[0].extend(documents)
            entry[1].extend(frequencies)
            entry[2].extend(positions)
        else:
            entry.extend(documents)


class PostingsWriter:
    """Collects the postings of one segment's documents, numbered from 0 in order:
    for each of `text_fields` the words with their positions, and the Han bigrams."""

    def __init__(self, text_fields: Iterable[str]) -> None:
        self.text_fields = tuple(text_fields)
        self.fields = {name: FieldBuilder(positional=True) for name in (*self.text_fields, GRAMS_FIELD)}
        self.doc_count = 0

    def add_document(self, tokens: Mapping[str, Iterable[tuple[str, int]]], grams: Mapping[str, list[int]]) -> None:
        docnum = self.doc_count
        for name in self.text_fields:
            self.fields[name].add_tokens(docnum, tokens.get(name, ()))
        self.fields[GRAMS_FIELD].add_grams(docnum, grams)
        self.doc_count += 1

    def add_segment(self, source: SegmentPostings, live: Iterable[int]) -> None:
        """Append the live documents of another segment, in order (as Whoosh's
        `add_reader` numbers them when it merges segments)."""
        renumbered = {old: self.doc_count + new for new, old in enumerate(live)}
        for name, builder in self.fields.items():
            table = source.field(name)
            lengths = table.lengths
            builder.lengths.extend(lengths[old] for old in renumbered)
            for term, documents, frequencies, positions in table.iter_all():
                kept_docs: list[int] = []
                kept_freqs: list[int] = []
                kept_positions: list[int] = []
                start = 0
                for i, old in enumerate(documents):
                    count = frequencies[i] if frequencies is not None else 0
                    new = renumbered.get(old)
                    if new is not None:
                        kept_docs.append(new)
                        if frequencies is not None:
                            assert positions is not None
                            kept_freqs.append(count)
                            kept_positions.extend(positions[start : start + count])
                    start += count
                if kept_docs:
                    builder.add_term(term, kept_docs, kept_freqs, kept_positions)
        self.doc_count += len(renumbered)

    def write(self, path: Path) -> None:
        write_file(path, self.doc_count, {name: partial(_write_field, builder=b) for name, b in self.fields.items()})


def write_file(path: Path, doc_count: int, fields: Mapping[str, Callable[[Any], dict[str, Any]]]) -> None:
    """Write a postings file to `path`, each field's sections written by its function
    (through a temporary file, so a reader never sees half a file)."""
    temporary = path.with_name(path.name + ".tmp")
    header: dict[str, Any] = {"doc_count": doc_count, "fields": {}}
    with open(temporary, "wb") as out:
        out.write(MAGIC)
        for name, write_field in fields.items():
            header["fields"][name] = write_field(out)
        header_offset = out.tell()
        out.write(json.dumps(header).encode())
        out.write(header_offset.to_bytes(8, "little"))
    os.replace(temporary, path)


def _write_field(out: Any, *, builder: FieldBuilder) -> dict[str, Any]:
    """Documents and frequencies in one stream of blocks, positions in another, so
    that finding a term's documents never decompresses its positions."""
    terms = sorted(builder.terms)
    doc_counts = uint32()
    position_counts = uint32()
    postings = BlockStream(out)
    positions = BlockStream(out)
    for number, term in enumerate(terms):
        entry = builder.terms[term]
        documents = entry[0] if builder.positional else entry
        doc_counts.append(len(documents))
        if builder.positional:
            postings.add(number, _deltas(documents), entry[1])
            position_counts.append(len(entry[2]))
            positions.add(number, entry[2])
        else:
            postings.add(number, _deltas(documents))
    postings.finish()
    positions.finish()
    streams = (postings, positions)
    return field_sections(out, builder.positional, terms, doc_counts, position_counts, streams, builder.lengths)


def field_sections(
    out: Any,
    positional: bool,
    terms: list[str] | FixedWidthTerms,
    doc_counts: array[int],
    position_counts: array[int],
    streams: tuple[Any, Any],
    lengths: array[int],
) -> dict[str, Any]:
    """Write a field's tables after its blocks: the terms, their counts, where each
    stream's blocks and runs are (`streams`: postings and positions, each with
    `first`, `start` and `offsets`), the documents' lengths; the field's spec."""

    def section(data: bytes) -> list[int]:
        offset = out.tell()
        out.write(data)
        return [offset, out.tell() - offset]

    # Bigrams are stored at a fixed width (no separators), so that a reader can look
    # them up without splitting hundreds of thousands of them into a list first.
    if isinstance(terms, FixedWidthTerms):
        width, joined = terms.width, terms.text
    else:
        width = FIXED_WIDTH if terms and all(len(term) <= FIXED_WIDTH for term in terms) else 0
        joined = "".join(term.ljust(width, "\0") for term in terms) if width else "\n".join(terms)
    return {
        "positional": positional,
        "width": width,
        "terms": section(zlib.compress(joined.encode("gb18030"), COMPRESSION)),
        "doc_counts": section(pack(doc_counts)),
        "position_counts": section(pack(position_counts)),
        **{
            f"{prefix}{name}": value
            for prefix, stream in zip(("", "position_"), streams, strict=True)
            for name, value in (
                ("block_first", section(pack(stream.first))),
                ("start_in_block", section(pack(stream.start))),
                ("block_offsets", section(zlib.compress(to_bytes(array("q", stream.offsets)), COMPRESSION))),
            )
        },
        "lengths": section(pack(lengths)),
        "total_length": sum(lengths),
    }


class FieldPostings:
    """One field's postings in one segment, read from the file's memory map."""

    def __init__(self, data: Any, spec: dict[str, Any]) -> None:
        self._data = data

        def section(name: str) -> bytes:
            offset, size = spec[name]
            return data[offset : offset + size]  # type: ignore[no-any-return]

        text = zlib.decompress(section("terms")).decode("gb18030")  # 2 bytes per Han character
        self.terms: Any = FixedWidthTerms(text, spec["width"]) if spec["width"] else text.split("\n") if text else []
        self.positional: bool = spec["positional"]
        self.doc_counts = unpack(section("doc_counts"))
        self._section = section
        self._postings = BlockReader(data, *(section(name) for name in _STREAM_SECTIONS))
        self.lengths = unpack(section("lengths"))
        self.total_length: int = spec["total_length"]
        self._found: dict[str, int] = {}
        # BM25's length part per document (an array), filled by the ranking on first use
        self.norms: Any = None

    def _index(self, term: str) -> int:
        """The term's number, or -1; remembered, since a query looks a term up
        several times (document frequency, documents, positions)."""
        i = self._found.get(term)
        if i is None:
            if len(self._found) > 4096:
                self._found.clear()
            i = bisect_terms(self.terms, term)
            i = self._found[term] = i if i < len(self.terms) and self.terms[i] == term else -1
        return i

    def doc_frequency(self, term: str) -> int:
        i = self._index(term)
        return self.doc_counts[i] if i >= 0 else 0

    def run(self, term: str) -> tuple[array[int], int, int] | None:
        """Where the term's postings are: the unpacked block, the start of its run in
        it and its document count. The run is the document deltas, then (positional
        fields) the frequencies; arrays.py reads it without a Python loop."""
        i = self._index(term)
        if i < 0:
            return None
        block, start = self._postings.run(i)
        return block, start, self.doc_counts[i]

    def _values(self, i: int) -> tuple[list[int], array[int] | None]:
        block, start = self._postings.run(i)
        count = self.doc_counts[i]
        documents = list(accumulate(block[start : start + count]))
        if not self.positional:
            return documents, None
        return documents, block[start + count : start + 2 * count]

    # Positions are read by phrases and merges only: their tables are unpacked on first use,
    # which keeps them off the path of a query that needs none (a cold `searchkit query`).
    @cached_property
    def position_counts(self) -> array[int]:
        return unpack(self._section("position_counts"))

    @cached_property
    def _positions(self) -> BlockReader:
        return BlockReader(self._data, *(self._section(f"position_{name}") for name in _STREAM_SECTIONS))

    def _position_deltas(self, i: int) -> array[int]:
        block, start = self._positions.run(i)
        return block[start : start + self.position_counts[i]]

    def documents(self, term: str) -> tuple[list[int], array[int] | None]:
        """Document numbers holding `term`, and its frequency in each (None for a
        field without positions: each counts once)."""
        i = self._index(term)
        if i < 0:
            return [], None
        return self._values(i)

    def occurrences(self, term: str) -> tuple[list[int], array[int], array[int]] | None:
        """The term's documents, frequency in each, and position deltas (restarting at
        each document): its whole list, for work over many documents at once."""
        i = self._index(term)
        if i < 0 or not self.positional:
            return None
        documents, frequencies = self._values(i)
        assert frequencies is not None
        return documents, frequencies, self._position_deltas(i)

    def positions(self, term: str, wanted: set[int]) -> dict[int, list[int]]:
        """Document number → the term's positions in it, for the `wanted` documents."""
        found: dict[int, list[int]] = {}
        if (occurrences := self.occurrences(term)) is None:
            return found
        documents, frequencies, deltas = occurrences
        if len(wanted) * 8 < len(documents):  # a few documents of a long list: look them up
            ends = list(accumulate(frequencies))
            for docnum in wanted:
                at = bisect_left(documents, docnum)
                if at < len(documents) and documents[at] == docnum:
                    end = ends[at]
                    found[docnum] = list(accumulate(deltas[end - frequencies[at] : end]))
            return found
        start = 0
        for docnum, count in zip(documents, frequencies, strict=True):
            if docnum in wanted:
                found[docnum] = list(accumulate(deltas[start : start + count]))
            start += count
        return found

    def _prefix_range(self, prefix: str) -> range:
        """The numbers of the terms that begin with `prefix`: both ends by bisection
        (islice from the start would walk every term before them)."""
        start = bisect_terms(self.terms, prefix)
        if not prefix:
            return range(start, len(self.terms))
        last = ord(prefix[-1])
        if last == sys.maxunicode:
            end = start
            while end < len(self.terms) and self.terms[end].startswith(prefix):
                end += 1
            return range(start, end)
        return range(start, bisect_terms(self.terms, prefix[:-1] + chr(last + 1), start))

    def with_prefix(self, prefix: str) -> list[str]:
        terms = self.terms
        return [terms[i] for i in self._prefix_range(prefix)]

    def documents_with_prefix(self, prefix: str) -> set[int]:
        """The documents holding any term that begins with `prefix`."""
        found: set[int] = set()
        for i in self._prefix_range(prefix):
            found.update(self._values(i)[0])
        return found

    def prefix_frequencies(self, prefix: str) -> list[tuple[str, int]]:
        """Each term beginning with `prefix`, with its document frequency."""
        terms, counts = self.terms, self.doc_counts
        return [(terms[i], counts[i]) for i in self._prefix_range(prefix)]

    def all_terms(self) -> list[str]:
        return self.terms.as_list() if isinstance(self.terms, FixedWidthTerms) else list(self.terms)

    def streams(self) -> tuple[array[int], array[int]]:
        """Every block of the postings stream, then of the positions stream, unpacked
        and joined: each term's runs one after another, in term order."""
        return self._postings.values(), self._positions.values()

    def iter_all(self) -> Iterator[tuple[str, list[int], array[int] | None, array[int] | None]]:
        """Every term with its documents, frequencies and position deltas (which
        restart at each document, so a document's run can be copied as it is)."""
        for i, term in enumerate(self.terms):
            documents, frequencies = self._values(i)
            yield term, documents, frequencies, self._position_deltas(i) if self.positional else None


_STREAM_SECTIONS = ("block_first", "start_in_block", "block_offsets")


class SegmentPostings:
    """The postings file of one Whoosh segment; fields are read on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            self._data: Any = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if not self._data[: len(MAGIC)] == MAGIC:
            raise ValueError(f"{path} is not a searchkit postings file")
        header_offset = int.from_bytes(self._data[-8:], "little")
        header = json.loads(self._data[header_offset:-8])
        self.doc_count: int = header["doc_count"]
        self._specs: dict[str, Any] = header["fields"]
        self._fields: dict[str, FieldPostings] = {}

    def field_names(self) -> list[str]:
        return list(self._specs)

    def field(self, name: str) -> FieldPostings:
        table = self._fields.get(name)
        if table is None:
            table = self._fields[name] = self.read_field(name)
        return table

    def read_field(self, name: str) -> FieldPostings:
        """The field read afresh, not kept: for a merge, which reads each field once."""
        return FieldPostings(self._data, self._specs[name])


def postings_path(folder: str | os.PathLike[str], segment: Any) -> Path:
    """Where a Whoosh segment's postings live: named after the segment, so Whoosh
    deletes the file with the segment's own files when a commit drops it."""
    return Path(folder, segment.make_filename(SUFFIX))
