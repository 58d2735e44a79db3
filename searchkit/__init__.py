"""searchkit: search engine for Chinese Markdown knowledge bases.

    from searchkit import Index
    ix = Index("index")
    ix.update("seeds/")
    for hit in ix.search("好莱坞 罢工"):
        print(hit.path, hit.title, hit.snippet)
"""

from .documents import Document, load_document
from .errors import (
    DocumentError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    QueryError,
    SearchkitError,
)
from .index import Index, IndexStats, SkippedFile
from .search import Hit, SearchResults

__version__ = "0.1.0"

__all__ = [
    "Document",
    "DocumentError",
    "Hit",
    "Index",
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
