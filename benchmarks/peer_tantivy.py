"""Speed peer: tantivy-py over text pre-segmented by jieba (`pip install tantivy`).

Title and body are cut with `jieba.cut_for_search` and joined with spaces; tantivy's
default tokenizer then sees one token per jieba word. A query is cut the same way and
its words are ANDed; ranking is tantivy's BM25, snippets come from its
SnippetGenerator with the spaces between Han characters taken out again. No
incremental update: `build` starts from an empty index.

    peer = TantivyPeer("/tmp/tantivy")
    peer.build("docs/")
    peer.search("好莱坞 罢工", limit=10)   # -> [(path, snippet), ...]
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import frontmatter
import jieba
import tantivy
from peer_fts5 import join_han, query_words, segment

jieba.setLogLevel(logging.WARNING)


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("path", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True)
    builder.add_text_field("body", stored=True)
    return builder.build()


class TantivyPeer:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._index: tantivy.Index | None = None
        self._searcher: tantivy.Searcher | None = None

    def build(self, folder: str | os.PathLike[str]) -> int:
        """Index every `*.md` under `folder` from scratch; returns the document count."""
        folder = Path(folder)
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        index = tantivy.Index(build_schema(), path=str(self.path))
        writer = index.writer()
        files = sorted(folder.rglob("*.md"))
        for file in files:
            post = frontmatter.load(file)
            writer.add_document(
                tantivy.Document(
                    path=file.relative_to(folder).as_posix(),
                    title=segment(str(post.get("title") or "")),
                    body=segment(post.content),
                )
            )
        writer.commit()
        writer.wait_merging_threads()
        return len(files)

    def search(self, query: str, limit: int = 10) -> list[tuple[str, str]]:
        """(path, snippet) of the best `limit` documents, best first."""
        words = query_words(query)
        if not words:
            return []
        if self._index is None:
            self._index = tantivy.Index.open(str(self.path))
            self._searcher = self._index.searcher()
        assert self._searcher is not None
        text = " ".join('"' + word.replace('"', " ").replace("\\", " ") + '"' for word in words)
        parsed = self._index.parse_query(text, ["title", "body"], conjunction_by_default=True)
        generator = tantivy.SnippetGenerator.create(self._searcher, parsed, self._index.schema, "body")
        hits = []
        for _score, address in self._searcher.search(parsed, limit).hits:
            doc = self._searcher.doc(address)
            snippet = generator.snippet_from_doc(doc).to_html()
            hits.append((doc["path"][0], join_han(snippet)))
        return hits

    def close(self) -> None:
        self._searcher = None
        self._index = None
