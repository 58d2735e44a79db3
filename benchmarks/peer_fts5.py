"""Speed peer: SQLite FTS5 (stdlib sqlite3) over text pre-segmented by jieba.

Title and body are cut with `jieba.cut_for_search` and joined with spaces, so FTS5's
`unicode61` tokenizer sees one token per jieba word. A query is cut the same way and
its words are ANDed (FTS5's default); ranking is FTS5's bm25, snippets come from
`snippet()` with the spaces between Han characters taken out again. No incremental
update: `build` starts from an empty database.

    peer = Fts5Peer("/tmp/fts5")
    peer.build("docs/")
    peer.search("好莱坞 罢工", limit=10)   # -> [(path, snippet), ...]
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from pathlib import Path

import frontmatter
import jieba

jieba.setLogLevel(logging.WARNING)

DB_FILE = "fts5.db"
_WORD = re.compile(r"\w")
_HAN = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
# a space between two Han characters (tags such as <mark> may sit on either side)
_HAN_SPACE = re.compile(rf"(?<=[{_HAN}])((?:</?\w+>)*) +((?:</?\w+>)*)(?=[{_HAN}])")


def segment(text: str) -> str:
    return " ".join(word for word in jieba.cut_for_search(text) if not word.isspace())


def query_words(query: str) -> list[str]:
    return [word for word in jieba.cut_for_search(query) if _WORD.search(word)]


def join_han(text: str) -> str:
    """Undo the pre-segmentation in a snippet: no spaces between Han characters."""
    return _HAN_SPACE.sub(r"\1\2", text)


class Fts5Peer:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    @property
    def db_file(self) -> Path:
        return self.path / DB_FILE

    def build(self, folder: str | os.PathLike[str]) -> int:
        """Index every `*.md` under `folder` from scratch; returns the document count."""
        folder = Path(folder)
        self.path.mkdir(parents=True, exist_ok=True)
        self.db_file.unlink(missing_ok=True)
        files = sorted(folder.rglob("*.md"))
        db = sqlite3.connect(self.db_file)
        with db:
            db.execute(
                "CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, title, body, tokenize='unicode61')"
            )
            db.executemany(
                "INSERT INTO docs (path, title, body) VALUES (?, ?, ?)",
                (self._row(file, folder) for file in files),
            )
        db.close()
        return len(files)

    @staticmethod
    def _row(file: Path, folder: Path) -> tuple[str, str, str]:
        post = frontmatter.load(file)
        title = str(post.get("title") or "")
        return file.relative_to(folder).as_posix(), segment(title), segment(post.content)

    def search(self, query: str, limit: int = 10, prefix: bool = False) -> list[tuple[str, str]]:
        """(path, snippet) of the best `limit` documents, best first; with `prefix`, the
        last word is a prefix (FTS5's `"word" *`), unless the query ends in a space."""
        words = query_words(query)
        if not words:
            return []
        if self._db is None:
            self._db = sqlite3.connect(self.db_file)
        quoted = ['"' + word.replace('"', '""') + '"' for word in words]
        if prefix and not query[-1:].isspace():
            quoted[-1] += " *"
        match = " ".join(quoted)
        rows = self._db.execute(
            "SELECT path, snippet(docs, 2, '<mark>', '</mark>', '…', 24) FROM docs "
            "WHERE docs MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        ).fetchall()
        return [(path, join_han(snippet)) for path, snippet in rows]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
