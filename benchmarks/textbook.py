"""The textbook baseline: Whoosh 2.7.4 + jieba's ChineseAnalyzer, default BM25F.

What a tutorial would write: the same four text fields as searchkit (title, tags,
summary, body) analysed by `jieba.analyse.ChineseAnalyzer()`, a stored `path`, and
queries read by Whoosh's MultifieldParser (OR between the words by default; AND
with `group="and"`).

    tb = Textbook("/tmp/tb")
    tb.build("docs/")
    tb.search("梵語何時出現", limit=10)   # -> ["1147-6", ...] (file stems)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import frontmatter
import jieba
import jieba.analyse
from whoosh import index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup

jieba.setLogLevel(logging.WARNING)

FIELDS = ["title", "tags", "summary", "body"]
GROUPS = {"or": OrGroup, "and": AndGroup}


def build_schema() -> Schema:
    analyzer = jieba.analyse.ChineseAnalyzer()
    return Schema(path=ID(unique=True, stored=True), **{name: TEXT(analyzer=analyzer) for name in FIELDS})


class Textbook:
    """A Whoosh index in `path`; `group` is "or" or "and" (how query words combine)."""

    def __init__(self, path: str | os.PathLike[str], group: str = "or") -> None:
        self.path = Path(path)
        self.group = GROUPS[group]
        self._searcher = None
        self._parser = None

    def build(self, folder: str | os.PathLike[str]) -> int:
        """Index every `*.md` under `folder` from scratch; returns the document count."""
        folder = Path(folder)
        self.path.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(self.path), build_schema())
        writer = ix.writer(limitmb=256)
        files = sorted(folder.rglob("*.md"))
        for file in files:
            post = frontmatter.load(file)
            writer.add_document(
                path=file.relative_to(folder).as_posix(),
                title=str(post.get("title") or ""),
                tags="",
                summary="",
                body=post.content,
            )
        writer.commit()
        return len(files)

    def search(self, query: str, limit: int = 10) -> list[str]:
        """File stems of the best `limit` documents for `query`, best first."""
        return [Path(path).stem for path in self.paths(query, limit)]

    def paths(self, query: str, limit: int = 10) -> list[str]:
        """Paths (relative to the folder indexed) of the best `limit` documents, best first."""
        if self._searcher is None:
            ix = index.open_dir(str(self.path))
            self._searcher = ix.searcher()
            self._parser = MultifieldParser(FIELDS, ix.schema, group=self.group)
        results = self._searcher.search(self._parser.parse(query), limit=limit)
        return [hit["path"] for hit in results]

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
