"""The index on disk: the only module that knows Whoosh and the files of an index.

An index is a folder holding a Whoosh index, one postings file per Whoosh segment
(postings.py), `searchkit.json` (format and analyzer versions, the folder it was
built from, the dictionary in effect) and the user's `dictionary.txt`.

Whoosh keeps what it is good at: the documents' stored values and columns, the
`tag`/`author`/`source` filter keywords, deletions, the write lock and the atomic
list of segments a commit is made of. Readers get a `Snapshot` (one commit and its
postings files); writers get a `StoreWriter` (the lock, deletions and the commit,
with searchkit's merge policy) and build new segments with a `SegmentWriter`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, clean_files
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from .analysis import ANALYZER_VERSION
from .documents import KEYWORD_FIELDS, TEXT_FIELDS, Document
from .errors import IndexDamagedError, IndexLockedError, IndexNotFoundError, IndexVersionError
from .indexfiles import INDEX_FORMAT, META_FILE, USER_DICTIONARY_FILE, IndexFiles
from .postings import PostingsWriter, SegmentPostings, postings_path
from .records import Card, Fingerprint, StoredDocument, decode_card, document_values, unpack_stored

WRITER_PID_FILE = "writer.pid"
INDEX_NAME = "MAIN"  # Whoosh's name for the index in a folder: its files start with it
WHOOSH_WRITE_LOCK = f"{INDEX_NAME}_WRITELOCK"  # the lock file FileIndex.writer() takes
REBUILD_FOLDER = ".rebuild"  # hidden: Whoosh's clean-up and folder scans pass it by

# The version sits in the schema, which Whoosh writes atomically with each commit, so a
# process killed between the commit and searchkit.json cannot leave it out of step.
VERSION_PREFIX = "searchkit_v"
VERSION_FIELD = f"{VERSION_PREFIX}{INDEX_FORMAT}_{ANALYZER_VERSION}"

# A Whoosh segment: opaque outside this module; worker processes pickle them to the
# parent, whose commit lists them.
Segment = Any


def build_schema() -> Schema:
    """The one place Whoosh fields are declared."""
    return Schema(
        **{VERSION_FIELD: STORED()},
        path=ID(unique=True, stored=True, sortable=True),
        fingerprint=COLUMN(VarBytesColumn()),
        keywords=COLUMN(VarBytesColumn()),
        # the text fields' postings are searchkit's own, beside each segment (postings.py)
        doc_z=STORED(),  # what a hit shows: STORED_FIELDS, packed
        meta=STORED(),
        # filters: tag names and link targets, authors, sources (lower-cased, exact)
        **{name: KEYWORD(lowercase=True, commas=True) for name in KEYWORD_FIELDS},
        # CARD_FIELDS of each document, for sorting and facets without unpacking doc_z
        card=COLUMN(VarBytesColumn()),
    )


def rounded_lengths(lengths: Any) -> list[int]:
    """Field lengths rounded to one byte's precision, as Whoosh stores them: the
    ranking was tuned with those (benchmarks/README.md)."""
    return [byte_to_length(length_to_byte(n)) for n in lengths]


# ---- reading ---------------------------------------------------------------------------


STORED_KEPT = 4096  # documents whose stored values a snapshot keeps decoded


class Snapshot:
    """One commit of the index, open for reading: the documents, and the postings
    file of each segment (opened together with Whoosh's files, since a commit that
    merges segments deletes both). Per-commit caches live here too."""

    def __init__(self, searcher: Any, folder: Path) -> None:
        self._searcher = searcher
        self.folder = folder
        self.doc_count: int = searcher.doc_count_all()  # deleted documents included
        self.live_count: int = searcher.doc_count()
        self.segments: list[tuple[SegmentPostings, int]] = []
        for subsearcher, offset in searcher.leaf_searchers():
            reader = subsearcher.reader()
            if not reader.doc_count_all():
                continue
            path = postings_path(folder, reader.segment())
            try:
                self.segments.append((SegmentPostings(path), offset))
            except (OSError, ValueError) as exc:
                raise IndexDamagedError(folder, f"{path.name}: {exc}") from exc
        reader = searcher.reader()
        self.deleted: set[int] | None = (
            set(range(self.doc_count)) - set(reader.all_doc_ids()) if reader.has_deletions() else None
        )
        self._columns: dict[str, dict[int, Any]] = {}
        self.memo: dict[str, Any] = {}  # what other modules derive once per commit (spelling.py)
        self._stored: dict[int, StoredDocument] = {}

    def live_documents(self) -> Iterator[int]:
        return iter(self._searcher.reader().all_doc_ids())

    def paths(self) -> dict[int, str]:
        """The path of every live document."""
        return self._column("path", str)

    def cards(self) -> dict[int, Card]:
        """Date, title, tags, author and source of every live document."""
        return self._column("card", decode_card)

    def _column(self, name: str, decode: Any) -> dict[int, Any]:
        if name not in self._columns:
            values = {}
            for subsearcher, offset in self._searcher.leaf_searchers():
                reader = subsearcher.reader()
                if not reader.doc_count_all():
                    continue
                column = reader.column_reader(name)
                for docnum in reader.all_doc_ids():
                    values[docnum + offset] = decode(column[docnum])
            self._columns[name] = values
        return self._columns[name]

    def keyword_documents(self, name: str, value: str) -> set[int]:
        """Live documents holding a filter keyword (`tag`, `author`, `source`)."""
        found: set[int] = set()
        for subsearcher, offset in self._searcher.leaf_searchers():
            try:
                matcher = subsearcher.reader().postings(name, value)
            except TermNotFound:
                continue
            found.update(docnum + offset for docnum in _matcher_ids(matcher))
        return found - self.deleted if self.deleted else found

    def keyword_values(self, name: str) -> list[str]:
        """Every value of a filter keyword in the index (deleted documents' included)."""
        return [value.decode("utf-8") for value in self._searcher.reader().lexicon(name)]

    def keyword_frequency(self, name: str, value: str) -> int:
        return int(self._searcher.doc_frequency(name, value))

    def document_number(self, path: str) -> int | None:
        docnum = self._searcher.document_number(path=path)
        return None if docnum is None else int(docnum)

    def stored(self, docnum: int) -> StoredDocument:
        """What a hit shows of a document; the last ones read are kept, since a page
        of hits repeats as a query is typed and paged."""
        found = self._stored.get(docnum)
        if found is None:
            if len(self._stored) >= STORED_KEPT:
                self._stored.clear()
            values = self._searcher.stored_fields(docnum)
            found = self._stored[docnum] = unpack_stored(values["path"], values.get("doc_z"))
        return found

    def up_to_date(self) -> bool:
        return bool(self._searcher.up_to_date())

    def close(self) -> None:
        self._searcher.close()


def _matcher_ids(matcher: Any) -> Iterator[int]:
    """Document numbers of a Whoosh leaf matcher, a block at a time where the codec
    allows (W3LeafMatcher), else one posting at a time."""
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            yield from matcher._ids
            matcher._next_block()
        return
    while matcher.is_active():
        yield matcher.id()
        matcher.next()


class Store(IndexFiles):
    """The files of one index folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._whoosh: Any = None
        self._metadata: tuple[Any, dict[str, Any]] = (None, {})

    @property
    def exists(self) -> bool:
        return self.path.is_dir() and bool(whoosh_index.exists_in(str(self.path)))

    def _open(self) -> Any:
        if self._whoosh is None:
            if not self.exists:
                raise IndexNotFoundError(self.path)
            expected = f"{INDEX_FORMAT}/{ANALYZER_VERSION}"
            try:
                opened = whoosh_index.open_dir(str(self.path))
            except (whoosh_index.IndexError, AttributeError, ImportError, ModuleNotFoundError) as exc:
                raise IndexVersionError(self.path, "unreadable", expected) from exc
            names = opened.schema.names()
            if VERSION_FIELD not in names:
                found = [n[len(VERSION_PREFIX) :].replace("_", "/") for n in names if n.startswith(VERSION_PREFIX)]
                opened.close()
                raise IndexVersionError(self.path, found[0] if found else "unknown", expected)
            self._whoosh = opened
        return self._whoosh

    def snapshot(self, previous: Snapshot | None = None) -> Snapshot:
        """The latest commit (`previous` itself when nothing was committed since).
        Its postings files are opened right after Whoosh's: if a commit that merged
        segments deleted some in between, a newer commit exists: take it."""
        if previous is not None and previous.up_to_date():
            return previous
        searcher = previous._searcher.refresh() if previous is not None else self._open().searcher()
        for attempt in range(3):
            try:
                return Snapshot(searcher, self.path)
            except IndexDamagedError:
                if attempt == 2 or searcher.up_to_date():
                    searcher.close()
                    raise
                searcher = searcher.refresh()
        raise AssertionError("unreachable")

    def doc_count(self) -> int:
        if not self.exists:
            return 0
        with self._open().searcher() as searcher:
            return int(searcher.doc_count())

    def column_by_path(self, name: str) -> dict[str, bytes]:
        """Path → the value of a per-document column, for every document of the latest commit."""
        if not self.exists:
            return {}
        with self._open().reader() as reader:
            if not reader.doc_count_all():  # an empty index has no columns yet
                return {}
            paths = reader.column_reader("path")
            values = reader.column_reader(name)
            return {paths[docnum]: values[docnum] for docnum in reader.all_doc_ids()}

    @contextmanager
    def rebuilding(self) -> Iterator[Store]:
        """A new, empty index beside this one, in a hidden folder inside it, while this
        one's write lock is held: readers go on seeing this index until the new one is
        complete and installed, which happens when the block ends without an error.
        An interrupted rebuild leaves this index as it was."""
        self.path.mkdir(parents=True, exist_ok=True)
        guard = self._take_lock()
        aside = self.path / REBUILD_FOLDER
        try:
            (self.path / WRITER_PID_FILE).write_text(str(os.getpid()))
            shutil.rmtree(aside, ignore_errors=True)  # what an interrupted rebuild left
            aside.mkdir()
            if (self.path / USER_DICTIONARY_FILE).exists():
                shutil.copy2(self.path / USER_DICTIONARY_FILE, aside / USER_DICTIONARY_FILE)
            yield Store(aside)
            self._install(aside)
        finally:
            shutil.rmtree(aside, ignore_errors=True)
            _unlink(self.path / WRITER_PID_FILE)
            guard.release()

    def _install(self, built: Path) -> None:
        """Make the complete index in `built` this one: move its segments' files here,
        then list them in a new generation of this index (one atomic rename), then
        delete what the old generations used."""
        toc = TOC.read(FileStorage(str(built)), INDEX_NAME)
        names = {segment.segment_id() for segment in toc.segments}
        for file in built.iterdir():
            if file.name.split(".", 1)[0] in names:
                os.replace(file, self.path / file.name)
        storage = FileStorage(str(self.path))
        generation = TOC._latest_generation(storage, INDEX_NAME) + 1
        TOC(toc.schema, toc.segments, generation).write(storage, INDEX_NAME)
        os.replace(built / META_FILE, self.path / META_FILE)
        clean_files(storage, INDEX_NAME, generation, toc.segments)
        self.close()

    def writer(self, *, create: bool) -> StoreWriter:
        """Take the write lock (`create`: on a new, empty index)."""
        self.path.mkdir(parents=True, exist_ok=True)
        # Take the lock before touching anything, so a rebuild cannot wipe an index
        # that another process is writing.
        try:
            if create:
                guard = self._take_lock()
                try:
                    self.close()
                    self._whoosh = whoosh_index.create_in(str(self.path), build_schema())
                finally:
                    guard.release()
            # Whoosh's buffer for the filter keywords it still indexes; bounds a writer's peak
            # memory (benchmarks/README.md)
            writer = self._open().writer(limitmb=64)
        except whoosh_index.LockError:
            raise IndexLockedError(self.path, self._lock_holder()) from None
        (self.path / WRITER_PID_FILE).write_text(str(os.getpid()))
        return StoreWriter(self, writer)

    def _take_lock(self) -> Any:
        """The write lock Whoosh's writer takes, without waiting for it."""
        guard = FileStorage(str(self.path)).lock(WHOOSH_WRITE_LOCK)
        if not guard.acquire(blocking=False):
            raise IndexLockedError(self.path, self._lock_holder())
        return guard

    def _lock_holder(self) -> str | None:
        try:
            return f"pid {int((self.path / WRITER_PID_FILE).read_text().strip())}"
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        self._whoosh = None


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


# ---- writing ---------------------------------------------------------------------------

# A segment whose postings file is under SMALL_SEGMENT_BYTES is "small" (a build writes
# segments of several MB; each update adds a small one). Once there are more than
# MAX_SMALL_SEGMENTS, a commit merges the earlier small ones into one, since each
# query reads every segment. Other segments are copied only when mostly deleted. The
# size, not the number of documents, is what a merge costs: counted in documents, the
# segments of a few hundred long notes that a dictionary change re-indexes were
# "small", and an edit's commit spent 7–10 s merging them (the watcher's 2 s target).
SMALL_SEGMENT_BYTES = 256 * 1024
MAX_SMALL_SEGMENTS = 6
# The segments one run writes (a build writes one per 1 M characters of text, to
# bound its memory) are merged into segments of up to this much postings: a query
# looks each term up in every segment, and on the vault one segment instead of six
# made a warm query a third faster (benchmarks/README.md).
MERGED_SEGMENT_BYTES = 32 * 1024 * 1024


class StoreWriter:
    """The write lock of an index, and the deletions and new segments of one commit."""

    def __init__(self, store: Store, writer: Any) -> None:
        self._store = store
        self._writer = writer

    def delete(self, path: str) -> None:
        self._writer.delete_by_term("path", path)

    def commit(self, new_segments: list[Segment]) -> None:
        """Whoosh's `SegmentWriter.commit` with searchkit's merge policy: the new
        segments (postings files written) join the index in one commit."""
        writer = self._writer
        try:
            postings = PostingsWriter(TEXT_FIELDS)
            segments = self._merge_small_segments(postings, self._merged(new_segments))
            if writer._added:
                segment = writer._finalize_segment()
                postings.write(postings_path(self._store.path, segment))
                segments.append(segment)
            else:
                writer._close_segment()
            writer._commit_toc(segments)
            writer._finish()
        finally:
            self._release()

    def cancel(self) -> None:
        try:
            self._writer.cancel()
        finally:
            self._release()

    def _release(self) -> None:
        _unlink(self._store.path / WRITER_PID_FILE)

    def _postings_bytes(self, segment: Segment) -> int:
        try:
            return postings_path(self._store.path, segment).stat().st_size
        except OSError:  # no postings file to copy: as cheap to merge as an empty one
            return 0

    def _merged(self, new_segments: list[Segment]) -> list[Segment]:
        """`new_segments` (nothing deleted in them yet), consecutive ones merged while
        their postings come to MERGED_SEGMENT_BYTES or less."""
        groups: list[list[Segment]] = []
        size = 0
        for segment in new_segments:
            grows = self._postings_bytes(segment)
            if not groups or size + grows > MERGED_SEGMENT_BYTES:
                groups.append([])
                size = 0
            groups[-1].append(segment)
            size += grows
        return [group[0] if len(group) == 1 else self._merge(group) for group in groups]

    def _merge(self, group: list[Segment]) -> Segment:
        """One new segment holding the documents of `group`, in order. Its postings
        file is written once Whoosh has assembled the segment's own files (it gathers
        every file named after the segment)."""
        from .arrays import merge_postings  # numpy: not for the worker processes, which never merge

        writer = WhooshSegmentWriter(self._store._open(), _lk=False)
        for segment in group:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
        merged = writer._finalize_segment()
        folder = self._store.path
        sources = [SegmentPostings(postings_path(folder, segment)) for segment in group]
        merge_postings(sources, postings_path(folder, merged))
        return merged

    def _merge_small_segments(self, postings: PostingsWriter, new_segments: list[Segment]) -> list[Segment]:
        """The segments to keep as they are: the existing ones and `new_segments`.
        Segments with no live documents are dropped; existing segments mostly
        deleted, and the small ones when there are too many, are copied into the
        writer's own segment."""
        writer = self._writer
        every = [*writer.segments, *new_segments]
        alive = [s for s in every if s.doc_count()]
        existing = [s for s in writer.segments if s.doc_count()]
        merged = [s for s in existing if s.deleted_count() * 2 > s.doc_count_all()]
        small = [s for s in alive if self._postings_bytes(s) < SMALL_SEGMENT_BYTES and s not in merged]
        if len(small) > MAX_SMALL_SEGMENTS:
            merged.extend(s for s in small if s in existing)
        kept = [s for s in alive if s not in merged]
        for segment in merged:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                live = list(reader.all_doc_ids())
                writer.add_reader(reader)
                postings.add_segment(SegmentPostings(postings_path(self._store.path, segment)), live)
            finally:
                reader.close()
        return [s for s in every if s in kept]  # in their order: document numbers stay put


class SegmentWriter:
    """Documents into new segments of the index at `index_path`, not yet committed:
    the caller (or the parent of a worker process) holds the write lock and commits
    them. Each segment's postings file is written when it is finished."""

    def __init__(self, index_path: Path) -> None:
        self._path = index_path
        self._ix = whoosh_index.open_dir(str(index_path))
        self._writer: Any = None
        self._postings = PostingsWriter(TEXT_FIELDS)

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    def add(
        self,
        document: Document,
        fingerprint: Fingerprint,
        tokens: dict[str, list[tuple[str, int]]],
        grams: dict[str, list[int]],
    ) -> None:
        """Add one document with its tokens (token, position) per text field."""
        if self._writer is None:
            self._writer, self._postings = WhooshSegmentWriter(self._ix, _lk=False), PostingsWriter(TEXT_FIELDS)
        self._writer.add_document(**document_values(document, fingerprint))
        self._postings.add_document(tokens, grams)

    def finish(self) -> Segment:
        """Close the open segment and write its postings file."""
        segment = self._writer._finalize_segment()
        self._writer = None
        self._postings.write(postings_path(self._path, segment))
        return segment

    def abandon(self) -> None:
        """Close an unfinished segment: its files are deleted by the next commit."""
        if self._writer is not None:
            self._writer._close_segment()
            self._writer = None
