"""What searchkit returns: frozen objects, complete before the index is closed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

DEFAULT_HIT_FIELDS = ("path", "title", "score", "date", "tags", "snippet")

# called with (files done, files to do) while an index run cuts text
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching document, copied out of the index (no index object inside).

    `snippet` is HTML (escaped, `<mark>` around matched words); `snippet_text` is
    the same text plain, and `snippet_ranges` the (start, end) character offsets of
    the matched words in it.
    """

    path: str
    title: str
    score: float
    date: str | None = None
    tags: tuple[str, ...] = ()
    snippet: str = ""
    author: str | None = None
    source: str | None = None
    url: str | None = None
    summary: str = ""
    snippet_text: str = ""
    snippet_ranges: tuple[tuple[int, int], ...] = ()

    def to_dict(self, fields: Iterable[str] = DEFAULT_HIT_FIELDS) -> dict[str, Any]:
        """The hit as JSON-ready values; `fields` picks them (see HIT_FIELDS)."""
        values: dict[str, Any] = {}
        for name in fields:
            value = getattr(self, name)
            if name == "score":
                value = round(value, 4)
            elif isinstance(value, tuple):
                value = [list(item) if isinstance(item, tuple) else item for item in value]
            values[name] = value
        return values


HIT_FIELDS = tuple(f.name for f in fields(Hit))


@dataclass(frozen=True, slots=True)
class SearchResults:
    """The hits for a query, best first. `total` counts every match, not just this page.

    `match` is "all" when every word matched, "partial" when no document had them
    all and the hits are the documents that match most of them.
    """

    query: str
    total: int
    match: str
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    offset: int = 0
    # value counts over all matches, most frequent first: {"tag": [("AI", 120), ...]}
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # words searched for as well as typed: {"cluade": "claude"}
    corrected: dict[str, str] = field(default_factory=dict)
    # the tag whose notes were lifted (and added): its tag note matched the query well
    topic: str | None = None

    @property
    def corrected_query(self) -> str | None:
        """The query as searched, with its corrections: "Cluade Code" → "claude Code"."""
        if not self.corrected:
            return None
        text = self.query
        for typed, fixed in self.corrected.items():
            text = re.sub(rf"(?<![A-Za-z]){re.escape(typed)}(?![A-Za-z])", fixed, text, flags=re.IGNORECASE)
        return text

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> Hit:
        return self.hits[index]

    def to_dict(self, fields: Iterable[str] = DEFAULT_HIT_FIELDS) -> dict[str, Any]:
        data: dict[str, Any] = {
            "query": self.query,
            "total": self.total,
            "match": self.match,
            "corrected": dict(self.corrected),
            "topic": self.topic,
            "offset": self.offset,
            "hits": [hit.to_dict(fields) for hit in self.hits],
        }
        if self.facets:
            data["facets"] = {name: [list(pair) for pair in counts] for name, counts in self.facets.items()}
        return data


@dataclass(frozen=True, slots=True)
class Contribution:
    """One query term matched in one field of the document, with its score."""

    field: str
    term: str
    score: float
    note: str | None = None  # how the term matched, when not as a plain word

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "term": self.term, "note": self.note, "score": round(self.score, 4)}


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a document ranks where it does for a query."""

    query: str
    path: str
    tokens: tuple[str, ...]
    match: str  # "all", "partial" or "none"
    score: float
    rank: int | None  # 1-based among all matches, as `search` orders them; None when it does not match
    total: int
    contributions: tuple[Contribution, ...]
    missing: tuple[str, ...]  # query tokens found in no field of the document
    unscored: tuple[str, ...] = ()  # question words and particles beside other words: not scored

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "path": self.path,
            "tokens": list(self.tokens),
            "match": self.match,
            "score": round(self.score, 4),
            "rank": self.rank,
            "total": self.total,
            "contributions": [c.to_dict() for c in self.contributions],
            "missing": list(self.missing),
            "unscored": list(self.unscored),
        }


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file not indexed (`reason`), or indexed with a caveat. `repeated`: the
    previous run skipped it too, unchanged, for the same reason."""

    path: str
    reason: str
    repeated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "repeated": self.repeated}


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What an update did. `skipped` files were not indexed; `warnings` were indexed
    with a caveat (e.g. broken frontmatter read as plain text)."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    # unchanged files indexed again because the dictionary changed words they contain
    reindexed: int = 0
    # unchanged files still to index again for the dictionary, by the next updates
    deferred: int = 0
    skipped: tuple[SkippedFile, ...] = ()
    warnings: tuple[SkippedFile, ...] = ()
    documents: int = 0
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "reindexed": self.reindexed,
            "deferred": self.deferred,
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": [s.to_dict() for s in self.warnings],
            "documents": self.documents,
            "elapsed_s": round(self.elapsed_s, 3),
        }
