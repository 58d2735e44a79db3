"""Runs of uint32s in compressed blocks, as postings files keep them (postings.py).

Each block is zlib-compressed with its values' bytes regrouped by significance
first; a term's run lies whole in one block, found by the term's number.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

BLOCK_VALUES = 32 * 1024  # uint32 values per compressed block before it is closed
COMPRESSION = 6  # zlib level, chosen on the vault (benchmarks/README.md)
_LITTLE = sys.byteorder == "little"


def uint32(values: Iterable[int] = ()) -> array[int]:
    data = array("I", values)
    assert data.itemsize == 4
    return data


def to_bytes(data: array[int]) -> bytes:
    if not _LITTLE:
        data = array(data.typecode, data)
        data.byteswap()
    return data.tobytes()


def _from_bytes(raw: bytes | bytearray | memoryview) -> array[int]:
    data = uint32()
    data.frombytes(raw)
    if not _LITTLE:
        data.byteswap()
    return data


def pack(values: array[int]) -> bytes:
    """uint32s compressed with their bytes regrouped by significance first: most values
    are small, so three of the four byte planes are nearly all zeros (30% smaller
    than compressing the plain array)."""
    raw = to_bytes(values)
    return zlib.compress(raw[0::4] + raw[1::4] + raw[2::4] + raw[3::4], COMPRESSION)


def unpack(packed: bytes | memoryview) -> array[int]:
    planes = zlib.decompress(packed)
    count = len(planes) // 4
    raw = bytearray(len(planes))
    for significance in range(4):
        raw[significance::4] = planes[significance * count : (significance + 1) * count]
    return _from_bytes(raw)


class BlockStream:
    """Runs of uint32s written in compressed blocks of about BLOCK_VALUES; each term's
    run lies in one block, found by the term's number."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.block = uint32()
        self.first = uint32()  # the first term of each block
        self.start = uint32()  # where each term's run starts in its block
        self.offsets: list[int] = []

    def add(self, number: int, *runs: Iterable[int]) -> None:
        if len(self.block) >= BLOCK_VALUES:
            self._close()
        if len(self.first) == len(self.offsets):  # no block open (an empty run leaves one open and empty)
            self.first.append(number)
        self.start.append(len(self.block))
        for run in runs:
            self.block.extend(run)

    def _close(self) -> None:
        self.offsets.append(self.out.tell())
        self.out.write(pack(self.block))
        del self.block[:]

    def finish(self) -> None:
        if len(self.first) > len(self.offsets):
            self._close()
        self.offsets.append(self.out.tell())  # end of the last block


class BlockReader:
    """The reading side of a BlockStream, with the last blocks used kept unpacked."""

    def __init__(self, data: Any, first: bytes, start: bytes, offsets: bytes) -> None:
        self._data = data
        self.first = unpack(first)
        self.start = unpack(start)
        self.offsets = array("q")
        self.offsets.frombytes(zlib.decompress(offsets))
        if not _LITTLE:
            self.offsets.byteswap()
        self._blocks: dict[int, array[int]] = {}

    def values(self) -> array[int]:
        joined = uint32()
        for number in range(len(self.offsets) - 1):
            joined.extend(unpack(self._data[self.offsets[number] : self.offsets[number + 1]]))
        return joined

    def run(self, i: int) -> tuple[array[int], int]:
        """The block holding term `i`'s run, and where the run starts in it."""
        number = bisect_right(self.first, i) - 1
        block = self._blocks.get(number)
        if block is None:
            if len(self._blocks) > 64:
                self._blocks.clear()
            block = self._blocks[number] = unpack(self._data[self.offsets[number] : self.offsets[number + 1]])
        return block, self.start[i]
