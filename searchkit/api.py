"""The JSON API of `searchkit serve`, apart from the web framework: each endpoint takes
a request's query parameters and returns the object to send, or raises ApiError.

Paths come from the browser: a path is served only when it is, exactly, a document of
the index and its file (symlinks resolved) lies inside the indexed folder.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .documents import read_document
from .errors import DocumentError, SearchkitError
from .highlight import match_ranges
from .index import Index
from .results import DEFAULT_HIT_FIELDS, HIT_FIELDS

MAX_LIMIT = 1000
_SURROGATE = re.compile("[\ud800-\udfff]")
_DRIVE = re.compile(r"^[A-Za-z]:")


class ApiError(Exception):
    """A request that cannot be answered: its HTTP status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def search(ix: Index, params: Mapping[str, str]) -> dict[str, Any]:
    """`/api/search`: what `searchkit query Q --json` prints for the same options, and `took_ms`."""
    query = params.get("q", "")
    if not query.strip():
        raise ApiError(400, "q: give a query, e.g. ?q=好莱坞 罢工")
    facets = [name.strip() for name in params.get("facets", "").split(",") if name.strip()]
    fields = list(DEFAULT_HIT_FIELDS)
    for name in (n.strip() for n in params.get("fields", "").split(",") if n.strip()):
        if name not in HIT_FIELDS:
            raise ApiError(400, f"fields: {name!r} is not one of {', '.join(HIT_FIELDS)}")
        if name not in fields:
            fields.append(name)
    started = time.perf_counter()
    try:
        results = ix.search(
            query,
            limit=_number(params, "limit", 10, MAX_LIMIT),
            offset=_number(params, "offset", 0, None),
            sort=params.get("sort", "relevance"),
            facets=facets,
            prefix=_flag(params, "prefix"),
        )
    except SearchkitError as exc:
        raise ApiError(400, str(exc)) from None
    took_ms = (time.perf_counter() - started) * 1000
    return {**results.to_dict(fields), "took_ms": round(took_ms, 1)}


def related(ix: Index, params: Mapping[str, str]) -> dict[str, Any]:
    """`/api/related`: what `searchkit related P --json` prints."""
    path, _ = document_file(ix, params.get("path", ""))
    limit = _number(params, "limit", 10, MAX_LIMIT, minimum=1)
    try:
        return ix.related(path, limit=limit).to_dict()
    except DocumentError as exc:  # deleted since it was checked
        raise ApiError(404, str(exc)) from None


def document(ix: Index, params: Mapping[str, str]) -> dict[str, Any]:
    """`/api/document`: a document's fields, its Markdown text without the frontmatter,
    the character ranges of the text that `q` matches, and how to open the file."""
    path, file = document_file(ix, params.get("path", ""))
    root = _root(ix)
    try:
        loaded = read_document(file, root)
    except DocumentError as exc:
        raise ApiError(404, f"{path}: cannot be read ({exc.reason})") from None
    fields, text = loaded.document, loaded.markdown
    query = params.get("q", "")
    matches: list[tuple[int, int]] = []
    if query.strip():
        try:
            matches = match_ranges(text, ix.highlight_terms(query, prefix=_flag(params, "prefix")))
        except SearchkitError as exc:
            raise ApiError(400, str(exc)) from None
    return {
        "path": path,
        "title": fields.title,
        "date": fields.date,
        "author": fields.author,
        "source": fields.source,
        "url": fields.url,
        "tags": list(fields.tags),
        "text": text,
        "matches": [list(span) for span in matches],
        "file": str(root / path),
        "obsidian": obsidian_link(root, path),
    }


def document_file(ix: Index, path: str) -> tuple[str, Path]:
    """The file of the document at `path`, refusing anything that is not exactly a
    document of the index inside the indexed folder (nothing is read before)."""
    if not path:
        raise ApiError(400, "path: give a document's path as /api/search shows it")
    parts = path.split("/")
    if "\x00" in path or "\\" in path or path.startswith("/") or _DRIVE.match(path) or {"", ".", ".."} & set(parts):
        raise ApiError(400, f"path: {path!r} is not a path inside the indexed folder")
    if not ix.has_document(path):
        raise ApiError(404, f"{path}: not a document of the index")
    root = _root(ix)
    file = root / path
    if not Path(os.path.realpath(file)).is_relative_to(os.path.realpath(root)):
        raise ApiError(404, f"{path}: the file is a link out of the indexed folder")
    return path, file


def obsidian_link(root: Path, path: str) -> str | None:
    """`obsidian://open?vault=…&file=…` when the indexed folder is (inside) an Obsidian vault."""
    for folder in (root, *root.parents):
        if (folder / ".obsidian").is_dir():
            file = (root / path).relative_to(folder).as_posix()
            return f"obsidian://open?vault={quote(folder.name, safe='')}&file={quote(file, safe='')}"
    return None


def encode(data: object) -> bytes:
    """JSON as the CLI's --json writes it (undecodable bytes as \ufffd)."""
    text = json.dumps(data, ensure_ascii=False)
    if _SURROGATE.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.encode("utf-8")


def _root(ix: Index) -> Path:
    root = ix.root()
    if root is None:
        raise ApiError(404, "the index has no folder on record")
    return root


def _number(params: Mapping[str, str], name: str, default: int, maximum: int | None, minimum: int = 0) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name}: {raw!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise ApiError(400, f"{name}: must be {bound}")
    return value


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "") in ("1", "true", "yes", "on")
