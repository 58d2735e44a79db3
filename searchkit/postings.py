"""searchkit's own postings: which documents hold each word, how often, and where.

Whoosh keeps the documents (stored fields, columns, filter keywords, deletions) and
the segments a commit is made of. The postings of the text fields live beside each
Whoosh segment in one file, `<segment>.skp`, built in memory as arrays and written
in one pass: Whoosh's own writer pickles, sorts and merges every posting in Python,
which was two thirds of a build and made the index twice the textbook's size
(figures in benchmarks/README.md).

File layout: a magic line, then compressed blocks of little-endian uint32 runs, then
per-field tables, then a JSON header, then the header's offset (8 bytes). For each
term a block holds its document-number deltas, then (positional fields) its
frequencies and position deltas, restarting at each document.
"""

from __future__ import annotations

import json
import mmap
import os
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, chain, islice
from operator import sub
from pathlib import Path
from typing import Any

MAGIC = b"searchkit-postings 2\n"
SUFFIX = ".skp"
GRAMS_FIELD = "grams"
FIXED_WIDTH = 2
BLOCK_VALUES = 32 * 1024  # uint32 values per compressed block before it is closed
COMPRESSION = 6  # zlib level, chosen on the vault (benchmarks/README.md)
_LITTLE = sys.byteorder == "little"


def _uint32(values: Iterable[int] = ()) -> array[int]:
    data = array("I", values)
    assert data.itemsize == 4
    return data


def _to_bytes(data: array[int]) -> bytes:
    if not _LITTLE:
        data = array(data.typecode, data)
        data.byteswap()
    return data.tobytes()


def _from_bytes(raw: bytes | bytearray | memoryview) -> array[int]:
    data = _uint32()
    data.frombytes(raw)
    if not _LITTLE:
        data.byteswap()
    return data


def _pack(values: array[int]) -> bytes:
    """uint32s compressed with their bytes regrouped by significance first: most values
    are small, so three of the four byte planes are nearly all zeros (30% smaller
    than compressing the plain array)."""
    raw = _to_bytes(values)
    return zlib.compress(raw[0::4] + raw[1::4] + raw[2::4] + raw[3::4], COMPRESSION)


def _unpack(packed: bytes | memoryview) -> array[int]:
    planes = zlib.decompress(packed)
    count = len(planes) // 4
    raw = bytearray(len(planes))
    for significance in range(4):
        raw[significance::4] = planes[significance * count : (significance + 1) * count]
    return _from_bytes(raw)


def _deltas(values: Sequence[int]) -> Iterator[int]:
    return map(sub, values, chain((0,), values))


class FieldBuilder:
    """The postings of one field while a segment is written."""

    def __init__(self, positional: bool) -> None:
        self.positional = positional
        # term -> (documents, frequencies, position deltas) or, without positions, documents
        self.terms: dict[str, Any] = {}
        self.lengths = _uint32()

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
        terms = self.terms
        for term, positions in seen.items():
            entry = terms.get(term)
            if entry is None:
                entry = terms[term] = (_uint32(), _uint32(), _uint32())
            entry[0].append(docnum)
            entry[1].append(len(positions))
            if len(positions) > 1:
                positions.sort()
            entry[2].extend(_deltas(positions))

    def add_set(self, docnum: int, terms_of_document: set[str]) -> None:
        self.lengths.append(len(terms_of_document))
        terms = self.terms
        for term in terms_of_document:
            documents = terms.get(term)
            if documents is None:
                terms[term] = _uint32((docnum,))
            else:
                documents.append(docnum)

    def add_term(self, term: str, documents: list[int], frequencies: list[int], positions: list[int]) -> None:
        """Postings of a term from another segment (merging), already renumbered."""
        entry: Any = self.terms.get(term)
        if entry is None:
            entry = self.terms[term] = (_uint32(), _uint32(), _uint32()) if self.positional else _uint32()
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
        self.fields = {name: FieldBuilder(positional=True) for name in self.text_fields}
        self.fields[GRAMS_FIELD] = FieldBuilder(positional=False)
        self.doc_count = 0

    def add_document(self, tokens: Mapping[str, Iterable[tuple[str, int]]], grams: set[str]) -> None:
        docnum = self.doc_count
        for name in self.text_fields:
            self.fields[name].add_tokens(docnum, tokens.get(name, ()))
        self.fields[GRAMS_FIELD].add_set(docnum, grams)
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
        """Write the segment's postings to `path` (through a temporary file, so a
        reader never sees half a file)."""
        temporary = path.with_name(path.name + ".tmp")
        header: dict[str, Any] = {"doc_count": self.doc_count, "fields": {}}
        with open(temporary, "wb") as out:
            out.write(MAGIC)
            for name, builder in self.fields.items():
                header["fields"][name] = _write_field(out, builder)
            header_offset = out.tell()
            out.write(json.dumps(header).encode())
            out.write(header_offset.to_bytes(8, "little"))
        os.replace(temporary, path)


def _write_field(out: Any, builder: FieldBuilder) -> dict[str, Any]:
    terms = sorted(builder.terms)
    doc_counts = _uint32()
    position_counts = _uint32()
    block_first = _uint32()  # the first term of each block
    start_in_block = _uint32()
    block_offsets: list[int] = []
    block = _uint32()

    def close_block() -> None:
        block_offsets.append(out.tell())
        out.write(_pack(block))
        del block[:]

    for number, term in enumerate(terms):
        entry = builder.terms[term]
        documents = entry[0] if builder.positional else entry
        if len(block) >= BLOCK_VALUES:
            close_block()
        if not block:
            block_first.append(number)
        start_in_block.append(len(block))
        doc_counts.append(len(documents))
        block.extend(_deltas(documents))
        if builder.positional:
            position_counts.append(len(entry[2]))
            block.extend(entry[1])
            block.extend(entry[2])
    if block:
        close_block()
    block_offsets.append(out.tell())  # end of the last block

    def section(data: bytes) -> list[int]:
        offset = out.tell()
        out.write(data)
        return [offset, out.tell() - offset]

    # Bigrams are stored at a fixed width (no separators), so that a reader can look
    # them up without splitting hundreds of thousands of them into a list first.
    width = FIXED_WIDTH if all(len(term) <= FIXED_WIDTH for term in terms) and not builder.positional else 0
    joined = "".join(term.ljust(width, "\0") for term in terms) if width else "\n".join(terms)
    return {
        "positional": builder.positional,
        "width": width,
        "terms": section(zlib.compress(joined.encode("gb18030"), COMPRESSION)),
        "doc_counts": section(_pack(doc_counts)),
        "position_counts": section(_pack(position_counts)),
        "block_first": section(_pack(block_first)),
        "start_in_block": section(_pack(start_in_block)),
        "block_offsets": section(zlib.compress(_to_bytes(array("q", block_offsets)), COMPRESSION)),
        "lengths": section(_pack(builder.lengths)),
        "total_length": sum(builder.lengths),
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
        self.doc_counts = _unpack(section("doc_counts"))
        self.position_counts = _unpack(section("position_counts"))
        self.block_first = _unpack(section("block_first"))
        self.start_in_block = _unpack(section("start_in_block"))
        self.block_offsets = array("q")
        self.block_offsets.frombytes(zlib.decompress(section("block_offsets")))
        if not _LITTLE:
            self.block_offsets.byteswap()
        self.lengths = _unpack(section("lengths"))
        self.total_length: int = spec["total_length"]
        self._blocks: dict[int, array[int]] = {}
        # BM25's length part per document, filled by the ranking on first use
        self.norms: list[float] | None = None

    def _index(self, term: str) -> int:
        i = bisect_left(self.terms, term)
        return i if i < len(self.terms) and self.terms[i] == term else -1

    def doc_frequency(self, term: str) -> int:
        i = self._index(term)
        return self.doc_counts[i] if i >= 0 else 0

    def _block(self, number: int) -> array[int]:
        block = self._blocks.get(number)
        if block is None:
            if len(self._blocks) > 64:
                self._blocks.clear()
            start, end = self.block_offsets[number], self.block_offsets[number + 1]
            block = self._blocks[number] = _unpack(self._data[start:end])
        return block

    def _values(self, i: int) -> tuple[list[int], array[int] | None, array[int] | None]:
        block = self._block(bisect_right(self.block_first, i) - 1)
        start = self.start_in_block[i]
        count = self.doc_counts[i]
        documents = list(accumulate(block[start : start + count]))
        if not self.positional:
            return documents, None, None
        frequencies = block[start + count : start + 2 * count]
        positions = block[start + 2 * count : start + 2 * count + self.position_counts[i]]
        return documents, frequencies, positions

    def documents(self, term: str) -> tuple[list[int], array[int] | None]:
        """Document numbers holding `term`, and its frequency in each (None for a
        field without positions: each counts once)."""
        i = self._index(term)
        if i < 0:
            return [], None
        documents, frequencies, _ = self._values(i)
        return documents, frequencies

    def positions(self, term: str, wanted: set[int]) -> dict[int, list[int]]:
        """Document number → the term's positions in it, for the `wanted` documents."""
        i = self._index(term)
        if i < 0 or not self.positional:
            return {}
        documents, frequencies, deltas = self._values(i)
        assert frequencies is not None and deltas is not None
        found: dict[int, list[int]] = {}
        start = 0
        for docnum, count in zip(documents, frequencies, strict=True):
            if docnum in wanted:
                found[docnum] = list(accumulate(deltas[start : start + count]))
            start += count
        return found

    def with_prefix(self, prefix: str) -> list[str]:
        start = bisect_left(self.terms, prefix)
        return list(_prefixed(islice(self.terms, start, None), prefix))

    def iter_all(self) -> Iterator[tuple[str, list[int], array[int] | None, array[int] | None]]:
        """Every term with its documents, frequencies and position deltas (which
        restart at each document, so a document's run can be copied as it is)."""
        for i, term in enumerate(self.terms):
            yield term, *self._values(i)


class FixedWidthTerms:
    """A sorted sequence of terms of at most `width` characters, stored as one string
    with shorter terms padded by NUL (which sorts first, keeping the order)."""

    def __init__(self, text: str, width: int) -> None:
        self._text = text
        self._width = width

    def __len__(self) -> int:
        return len(self._text) // self._width

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise IndexError(index)
        start = index * self._width
        return self._text[start : start + self._width].rstrip("\0")


def _prefixed(terms: Iterable[str], prefix: str) -> Iterator[str]:
    for term in terms:
        if not term.startswith(prefix):
            return
        yield term


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

    def field(self, name: str) -> FieldPostings:
        table = self._fields.get(name)
        if table is None:
            table = self._fields[name] = FieldPostings(self._data, self._specs[name])
        return table


def postings_path(folder: str | os.PathLike[str], segment: Any) -> Path:
    """Where a Whoosh segment's postings live: named after the segment, so Whoosh
    deletes the file with the segment's own files when a commit drops it."""
    return Path(folder, segment.make_filename(SUFFIX))
