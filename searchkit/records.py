"""How one document is kept in the index: its fingerprint, its card (for sorting and
facets), what a hit shows of it (packed), and its filter keywords. Plain values:
store.py puts them into Whoosh's fields."""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from .documents import Document


@dataclass(frozen=True, slots=True, order=True)
class Fingerprint:
    """What says a file changed: its modification time and size."""

    mtime_ns: int
    size: int

    @classmethod
    def of(cls, stat: os.stat_result) -> Fingerprint:
        return cls(stat.st_mtime_ns, stat.st_size)

    def encode(self) -> bytes:
        return f"{self.mtime_ns}:{self.size}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> Fingerprint | None:
        mtime, _, size = raw.decode("ascii", "replace").partition(":")
        return cls(int(mtime), int(size)) if mtime.isdigit() and size.isdigit() else None


@dataclass(frozen=True, slots=True)
class Card:
    """What sorting and facets need of a document, from the `card` column."""

    date: str | None = None
    title: str = ""
    tags: tuple[str, ...] = ()
    author: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """What a hit shows of a document, as indexed."""

    path: str
    title: str = ""
    summary: str = ""
    date: str | None = None
    author: str | None = None
    source: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()


# The fields of a Document each record keeps, declared by the dataclasses above.
CARD_FIELDS = tuple(f.name for f in fields(Card))
STORED_FIELDS = tuple(f.name for f in fields(StoredDocument) if f.name != "path")

Record = TypeVar("Record", Card, StoredDocument)


def _record(cls: type[Record], values: dict[str, Any], **given: Any) -> Record:
    """A record from decoded JSON: unknown keys and nulls left out (the defaults)."""
    names = {f.name for f in fields(cls)}
    kept: dict[str, Any] = {
        k: tuple(v) if k == "tags" else v for k, v in values.items() if k in names and v is not None
    }
    return cls(**given, **kept)


def _field_values(document: Document, names: tuple[str, ...]) -> dict[str, Any]:
    values = {name: getattr(document, name) for name in names}
    if "tags" in values:
        values["tags"] = list(values["tags"])
    return values


def pack_stored(document: Document) -> bytes:
    """STORED_FIELDS as one value: JSON in GB18030 (two bytes per Han character, not
    three; it encodes all of Unicode), compressed. The body is not stored: snippets
    are cut from the file as it is now (the vault is the source of truth)."""
    text = json.dumps(_field_values(document, STORED_FIELDS), ensure_ascii=False)
    return zlib.compress(text.encode("gb18030"), 6)


def unpack_stored(path: str, packed: bytes | None) -> StoredDocument:
    values = json.loads(zlib.decompress(packed).decode("gb18030")) if packed else {}
    return _record(StoredDocument, values, path=path)


def decode_card(raw: bytes) -> Card:
    return _record(Card, json.loads(raw) if raw else {})


def _keyword_value(values: list[str]) -> str:
    """A comma-separated KEYWORD value; commas inside a value would split it."""
    return ",".join(v.strip().replace(",", " ") for v in values if v.strip())


def document_values(document: Document, fingerprint: Fingerprint) -> dict[str, Any]:
    """The Whoosh fields of one document."""
    values: dict[str, Any] = {
        "path": document.path,
        "fingerprint": fingerprint.encode(),
        "keywords": "\n".join(document.keywords).encode("utf-8"),
        "doc_z": pack_stored(document),
        "card": json.dumps(_field_values(document, CARD_FIELDS), ensure_ascii=False).encode("utf-8"),
    }
    tag_values = [*document.tags, *document.tag_links]
    if tag_values:
        values["tag"] = _keyword_value(tag_values)
    for name in ("author", "source"):
        value = getattr(document, name)
        if value:
            values[name] = _keyword_value([value, *value.split(",")])
    return values
