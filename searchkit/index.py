"""`Index`: what an application holds. It owns the files of one index folder (store.py),
the analyzers with the dictionary in effect, and the open snapshot searches read;
the work is done by sync.py (indexing) and search.py (queries)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .analysis import Analyzer, dictionary_form
from .errors import DocumentError
from .indexfiles import USER_DICTIONARY_FILE
from .results import Explanation, IndexStats, ProgressCallback, SearchResults
from .search import explain_document, marked_terms, related_documents, run_search
from .store import Snapshot, Store

DEFAULT_INDEX_PATH = "index"


def default_index_path() -> Path:
    """`$SEARCHKIT_INDEX`, else `./index`."""
    return Path(os.environ.get("SEARCHKIT_INDEX") or DEFAULT_INDEX_PATH)


class Index:
    """A searchkit index in a folder.

    >>> ix = Index("index")            # opens, or creates on first update
    >>> stats = ix.update("seeds/")    # incremental: added / changed / removed
    >>> results = ix.search("好莱坞 罢工", limit=10)
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_index_path()
        self._store = Store(self.path)
        self._snapshot: Snapshot | None = None
        # the dictionary the index was built with, for queries; the one a sync
        # indexes with, for the text it cuts in this process
        self._reader = Analyzer()
        self._reader_source: object = None
        self._writer = Analyzer()

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return self._store.exists

    def metadata(self) -> dict[str, Any]:
        """The contents of `searchkit.json`: format, analyzer version, root folder,
        dictionary."""
        return dict(self._store.metadata())

    def root(self) -> Path | None:
        """The folder the index was last built from (hits' paths are relative to it)."""
        root = self._store.metadata().get("root")
        return Path(root) if root else None

    def __len__(self) -> int:
        return self._store.doc_count()

    def indexed_fingerprints(self) -> dict[str, bytes]:
        """Path → fingerprint (`mtime_ns:size`) of every document in the index."""
        return self._store.column_by_path("fingerprint")

    def documents(self) -> Iterator[str]:
        """Paths of every indexed document."""
        yield from sorted(self.indexed_fingerprints())

    def update(
        self,
        root: str | os.PathLike[str],
        *,
        rebuild: bool = False,
        follow_links: bool = False,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
        reindex_limit: int | None = None,
    ) -> IndexStats:
        """Sync the index with the files under `root`.

        New files are added, changed files replaced, deleted files removed;
        unchanged files (same mtime and size) are not read. A file that cannot be
        read is reported in `IndexStats.skipped` and the rest goes on. When the
        dictionary changes (names learned from the vault, or `dictionary.txt`), the
        documents containing the words that changed are indexed again. `rebuild`
        indexes every file again into a new index (needed after a format change),
        built beside this one, which readers go on using until the new one replaces
        it whole; an interrupted rebuild leaves it as it was. `follow_links`
        follows symlinked folders and symlinks to files outside `root`. `workers`
        processes cut the text side by side (default: one per core, up to 4, when
        there are hundreds of files to index; `$SEARCHKIT_WORKERS` overrides).
        `reindex_limit`: index at most this many unchanged documents again for a
        dictionary change, leaving the rest (`IndexStats.deferred`) to the next
        updates, so that what changed is searchable at once (a watcher).
        """
        from .sync import rebuild_folder, sync_folder  # not imported by a process that only searches

        if rebuild or not self.exists:
            stats = rebuild_folder(
                self._store, Path(root), self._reader, self._writer,
                follow_links=follow_links, workers=workers, progress=progress,
            )  # fmt: skip
        else:
            stats = sync_folder(
                self._store, Path(root), self._reader, self._writer,
                follow_links=follow_links, workers=workers, progress=progress, reindex_limit=reindex_limit,
            )  # fmt: skip
        # the writer's dictionary is now the index's: searches take it as it is,
        # with its segmenter loaded if this process cut text
        self._reader, self._writer = self._writer, self._reader
        self._reader_source = self._store.metadata()
        return stats

    # -- searching --

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
        facets: Iterable[str] = (),
        prefix: bool = False,
    ) -> SearchResults:
        """Search the index; hits are complete objects, usable after the index closes.

        query: words (all must match), "phrases", OR, -word, and filters such as
            tag:AI, author:宝玉, source:微信公众号, path:01-博客/, title:罢工,
            date:2024, date:2024-07, date:2023-05..2023-11, date:>=2024-01-01.
        limit, offset: the page of hits; `total` counts every match.
        sort: "relevance" (newest first when the query has only filters), "date"
            (oldest first), "-date" (newest first) or "title"; undated documents last.
        facets: any of "tag", "source", "author", "year": counts over all matches.
        prefix: the last word is still being typed (a search box): `clau` also
            finds the commonest words it begins, `claude`, `clause`.

        >>> results = Index("index").search("好莱坞 罢工", limit=10)
        >>> [hit.path for hit in results]
        """
        snapshot = self._current_snapshot()
        return run_search(
            snapshot,
            self._analyzer(),
            query,
            limit=limit,
            offset=offset,
            sort=sort,
            facets=facets,
            root=self.root(),
            prefix=prefix,
        )

    def related(self, path: str, *, limit: int = 10) -> SearchResults:
        """Documents most related to the one at `path`: shared distinctive words
        and shared tags.

        >>> [hit.path for hit in Index("index").related("00-元语/Claude Code.md")]
        """
        snapshot = self._current_snapshot()
        docnum = self._document_number(snapshot, self._document_path(snapshot, path))
        return related_documents(snapshot, self._analyzer(), docnum, self.root(), limit=limit)

    def explain(self, query: str, path: str) -> Explanation:
        """Why the document at `path` (relative to the indexed folder) ranks where it
        does for `query`: its tokens, and the score of each term in each field."""
        snapshot = self._current_snapshot()
        path = self._document_path(snapshot, path)
        return explain_document(snapshot, self._analyzer(), query, self._document_number(snapshot, path), path)

    def has_document(self, path: str) -> bool:
        """Whether `path` (as `search` shows it, exactly) is a document of the latest commit."""
        return self._current_snapshot().document_number(path) is not None

    def highlight_terms(self, query: str, *, prefix: bool = False) -> list[str]:
        """The normalised words `search` marks in snippets for `query`, to mark them in
        a whole document (with `highlight.match_ranges`): its words, their mainland
        forms, corrections and, with `prefix`, completions. Raises QueryError."""
        return marked_terms(self._current_snapshot(), self._analyzer(), query, prefix=prefix)

    def _document_path(self, snapshot: Snapshot, path: str) -> str:
        """The path as the index has it, for a path as `query` shows it or a file's
        path (absolute, or relative to the working folder) inside the indexed folder."""
        if snapshot.document_number(path) is not None:
            return path
        root = self.root()
        file = Path(path).expanduser()
        if root is not None:
            real_file, real_root = Path(os.path.realpath(Path.cwd() / file)), Path(os.path.realpath(root))
            if real_file.is_relative_to(real_root):
                return real_file.relative_to(real_root).as_posix()
        return file.as_posix().removeprefix("./")

    def _document_number(self, snapshot: Snapshot, path: str) -> int:
        docnum = snapshot.document_number(path)
        if docnum is None:
            where = f" of {self.root()}" if self.root() else ""
            raise DocumentError(
                path, f"not in the index; give a file{where} or its path as `searchkit query` shows it"
            )
        return docnum

    def _current_snapshot(self) -> Snapshot:
        """The latest commit, kept open between searches: opening one reads the term
        index and the postings files' tables, which costs more than a typical query."""
        self._snapshot = self._store.snapshot(self._snapshot)
        return self._snapshot

    def _analyzer(self) -> Analyzer:
        """The analyzer with the dictionary the index was built with."""
        metadata = self._store.metadata()
        if metadata is not self._reader_source:
            self._reader.set_words(metadata.get("dictionary", []))
            self._reader_source = metadata
        return self._reader

    # -- the dictionary --

    @property
    def user_dictionary_path(self) -> Path:
        """`dictionary.txt` in the index folder: one word per line, `#` comments."""
        return self.path / USER_DICTIONARY_FILE

    def user_words(self) -> list[str]:
        """The words a user added (`searchkit dict add`)."""
        return self._store.read_user_words()

    def add_words(self, words: Iterable[str]) -> list[str]:
        """Add words to the user dictionary; returns those that were new. The next
        `update` re-indexes the documents that contain them."""
        current = self.user_words()
        known = {dictionary_form(w) for w in current}
        new = []
        for word in words:
            word = " ".join(word.split())
            if word and dictionary_form(word) not in known:
                known.add(dictionary_form(word))
                new.append(word)
        if new:
            self._store.write_user_words(current + new)
        return new

    def remove_words(self, words: Iterable[str]) -> list[str]:
        """Remove words from the user dictionary; returns those that were there."""
        unwanted = {dictionary_form(w) for w in words}
        current = self.user_words()
        kept = [w for w in current if dictionary_form(w) not in unwanted]
        if len(kept) != len(current):
            self._store.write_user_words(kept)
        return [w for w in current if dictionary_form(w) in unwanted]

    def dictionary(self) -> list[str]:
        """Every word in the dictionary the index was built with (learned and added)."""
        return sorted(self._store.metadata().get("dictionary", []))

    # -- lifetime --

    def close(self) -> None:
        """Release the open files of the index (also done on exit from `with`)."""
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None
        self._store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
