"""searchkit: search engine for Chinese Markdown knowledge bases.

    from searchkit import Index
    ix = Index("index")
    ix.update("seeds/")
    for hit in ix.search("好莱坞 罢工"):
        print(hit.path, hit.title, hit.snippet)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .documents import Document, load_document
    from .errors import (
        DocumentError,
        IndexDamagedError,
        IndexLockedError,
        IndexNotFoundError,
        IndexVersionError,
        QueryError,
        SearchkitError,
    )
    from .index import Index
    from .results import Contribution, Explanation, Hit, IndexStats, SearchResults, SkippedFile

# Public names and the module each lives in. They are imported on first use, so that
# `searchkit --help` does not pay for Whoosh or the segmenter.
_PUBLIC = {
    "Document": "documents",
    "load_document": "documents",
    "DocumentError": "errors",
    "IndexDamagedError": "errors",
    "IndexLockedError": "errors",
    "IndexNotFoundError": "errors",
    "IndexVersionError": "errors",
    "QueryError": "errors",
    "SearchkitError": "errors",
    "Index": "index",
    "Contribution": "results",
    "Explanation": "results",
    "Hit": "results",
    "IndexStats": "results",
    "SearchResults": "results",
    "SkippedFile": "results",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


__version__ = "0.1.0"

__all__ = [
    "Contribution",
    "Document",
    "DocumentError",
    "Explanation",
    "Hit",
    "Index",
    "IndexDamagedError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexStats",
    "IndexVersionError",
    "QueryError",
    "SearchResults",
    "SearchkitError",
    "SkippedFile",
    "__version__",
    "load_document",
]
