"""The on-disk index: schema, incremental sync with a folder, and search entry point.

An index is a folder holding a Whoosh index and `searchkit.json` (format version,
analyzer version, the folder it was built from). Each document's fingerprint
(mtime and size) sits in a Whoosh column beside its path, so the index alone says
what is indexed and a sync needs no second bookkeeping file that could disagree.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, Schema

from .analysis import (
    ANALYZER_VERSION,
    dictionary_form,
    gram_set,
    iter_tokens,
    query_tokens,
    set_dictionary,
)
from .documents import Document, is_document_file, read_document, relative_path
from .errors import (
    DocumentError,
    IndexDamagedError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    SearchkitError,
)
from .postings import TEXT_FIELDS, SegmentPostings, postings_path
from .postings import SegmentWriter as PostingsWriter
from .ranking import Ranker, intersection
from .search import (
    Explanation,
    SearchResults,
    explain_document,
    pack_stored,
    related_documents,
    run_search,
)

INDEX_FORMAT = 3
META_FILE = "searchkit.json"
WRITER_PID_FILE = "writer.pid"
USER_DICTIONARY_FILE = "dictionary.txt"
WHOOSH_WRITE_LOCK = "MAIN_WRITELOCK"  # the lock file FileIndex.writer() takes
DEFAULT_INDEX_PATH = "index"

ProgressCallback = Callable[[int, int], None]


# The version sits in the schema, which Whoosh writes atomically with each commit, so a
# process killed between the commit and searchkit.json cannot leave it out of step.
VERSION_PREFIX = "searchkit_v"
VERSION_FIELD = f"{VERSION_PREFIX}{INDEX_FORMAT}_{ANALYZER_VERSION}"


def build_schema() -> Schema:
    """The one place Whoosh fields are declared."""
    return Schema(
        **{VERSION_FIELD: STORED()},
        path=ID(unique=True, stored=True, sortable=True),
        fingerprint=COLUMN(VarBytesColumn()),
        keywords=COLUMN(VarBytesColumn()),
        # the text fields' postings are searchkit's own, beside each segment (postings.py)
        doc_z=STORED(),  # title, summary, body, date, author, source, url, tags
        meta=STORED(),
        # filters: tag names and link targets, authors, sources (lower-cased, exact)
        tag=KEYWORD(lowercase=True, commas=True),
        author=KEYWORD(lowercase=True, commas=True),
        source=KEYWORD(lowercase=True, commas=True),
        # date, title, tags, author and source of each document, for sorting and facets
        # without unpickling its stored fields
        card=COLUMN(VarBytesColumn()),
    )


@dataclass(frozen=True, slots=True)
class SkippedFile:
    path: str
    reason: str


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
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "warnings": [{"path": s.path, "reason": s.reason} for s in self.warnings],
            "documents": self.documents,
            "elapsed_s": round(self.elapsed_s, 3),
        }


@dataclass
class _Scan:
    files: dict[str, tuple[Path, bytes]] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)


def default_index_path() -> Path:
    """`$SEARCHKIT_INDEX`, else `./index`."""
    return Path(os.environ.get("SEARCHKIT_INDEX") or DEFAULT_INDEX_PATH)


def scan_vault(root: Path, *, follow_links: bool = False) -> _Scan:
    """Every document file under `root` with its fingerprint; hidden folders and files
    are skipped. Symlinks to files outside `root` and symlinked folders are followed
    only with `follow_links` (and then each folder is visited once, so loops end)."""
    scan = _Scan()
    real_root = root.resolve()
    visited: set[tuple[int, int]] = set()

    def on_error(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        scan.skipped.append(SkippedFile(_safe_relative(where, root), f"cannot read folder: {error.strerror}"))

    for folder, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=follow_links):
        if follow_links:
            try:
                info = os.stat(folder)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in visited:
                dirnames[:] = []
                continue
            visited.add((info.st_dev, info.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not is_document_file(name):
                continue
            path = Path(folder, name)
            rel = relative_path(path, root)
            try:
                if (
                    not follow_links
                    and path.is_symlink()
                    and not path.resolve().is_relative_to(real_root)
                ):
                    scan.skipped.append(SkippedFile(rel, "symlink to a file outside the folder"))
                    continue
                stat = path.stat()
            except OSError as exc:
                scan.skipped.append(SkippedFile(rel, f"cannot read: {exc.strerror}"))
                continue
            scan.files[rel] = (path, f"{stat.st_mtime_ns}:{stat.st_size}".encode())
    return scan


def _safe_relative(path: Path, root: Path) -> str:
    try:
        return relative_path(path, root)
    except ValueError:
        return str(path)


def _document_texts(document: Document) -> dict[str, str]:
    """The text of each searchable field."""
    return {
        "title": document.title,
        "tags": "\n".join(document.tags),
        "summary": document.summary,
        "body": document.body,
    }


def add_to_postings(postings: PostingsWriter, document: Document) -> None:
    texts = _document_texts(document)
    tokens = {name: [(t, p) for t, p, _, _ in iter_tokens(texts[name])] for name in TEXT_FIELDS}
    postings.add_document(tokens, gram_set("\n".join(texts.values())))


def _document_fields(document: Document, fingerprint: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "path": document.path,
        "fingerprint": fingerprint,
        "keywords": "\n".join(document.keywords).encode("utf-8"),
        "doc_z": pack_stored(
            {
                "title": document.title,
                "summary": document.summary,
                "date": document.date,
                "author": document.author,
                "source": document.source,
                "url": document.url,
                "tags": list(document.tags),
            }
        ),
    }
    card = {
        "date": document.date,
        "title": document.title,
        "tags": list(document.tags),
        "author": document.author,
        "source": document.source,
    }
    fields["card"] = json.dumps(card, ensure_ascii=False).encode("utf-8")
    tag_values = [*document.tags, *document.tag_links]
    if tag_values:
        fields["tag"] = _keyword_value(tag_values)
    for name in ("author", "source"):
        value = getattr(document, name)
        if value:
            fields[name] = _keyword_value([value, *value.split(",")])
    return fields


def _keyword_value(values: list[str]) -> str:
    """A comma-separated KEYWORD value; commas inside a value would split it."""
    return ",".join(v.strip().replace(",", " ") for v in values if v.strip())


# A segment of fewer than SMALL_SEGMENT_DOCS live documents is "small" (a build writes
# segments of about SEGMENT_TEXT_CHARS of text, a thousand typical documents; each
# update adds a small one). Once there are more than MAX_SMALL_SEGMENTS, a commit merges
# the earlier small ones into one: each query reads every segment. Other segments are
# copied only when mostly deleted, so a commit copies at most a few thousand documents.
SMALL_SEGMENT_DOCS = 500
MAX_SMALL_SEGMENTS = 6


def _merge_small_segments(
    writer: Any, postings: PostingsWriter, folder: Path, new_segments: list[Any]
) -> list[Any]:
    """The segments to keep as they are: the existing ones and `new_segments`.
    Segments with no live documents are dropped; existing segments mostly deleted,
    and the small ones when there are too many, are copied into the writer's own
    segment."""
    from whoosh.reading import SegmentReader

    every = [*writer.segments, *new_segments]
    alive = [s for s in every if s.doc_count()]
    existing = [s for s in writer.segments if s.doc_count()]
    merged = [s for s in existing if s.deleted_count() * 2 > s.doc_count_all()]
    small = [s for s in alive if s.doc_count() < SMALL_SEGMENT_DOCS and s not in merged]
    if len(small) > MAX_SMALL_SEGMENTS:
        merged.extend(s for s in small if s in existing)
    kept = [s for s in alive if s not in merged]
    for segment in merged:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            live = list(reader.all_doc_ids())
            writer.add_reader(reader)
            postings.add_segment(SegmentPostings(postings_path(folder, segment)), live)
        finally:
            reader.close()
    return [s for s in every if s in kept]  # in their order: document numbers stay put


@dataclass(frozen=True)
class ShardResult:
    """What indexing one share of the documents produced: new segments (their
    postings files written), the paths indexed, the files skipped."""

    segments: list[Any]
    indexed: list[str]
    skipped: list[SkippedFile]


# Below this many documents a worker process costs more (start-up, loading the
# segmenter) than it saves.
MIN_DOCUMENTS_PER_WORKER = 300
MAX_WORKERS = 4


def _default_workers(documents: int) -> int:
    configured = os.environ.get("SEARCHKIT_WORKERS", "").strip()
    if configured.isdigit():
        return int(configured)
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS, documents // MIN_DOCUMENTS_PER_WORKER))


def _split(jobs: list[tuple[str, str, str]], count: int) -> list[list[tuple[str, str, str]]]:
    """`count` shares of about equal bytes (largest files first, each to the lightest share)."""
    def size(job: tuple[str, str, str]) -> int:
        return int(job[2].rsplit(":", 1)[-1])

    shares: list[list[tuple[str, str, str]]] = [[] for _ in range(count)]
    loads = [0] * count
    for job in sorted(jobs, key=size, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(job)
        loads[lightest] += size(job)
    return [share for share in shares if share]


def index_shard(
    index_path: Path,
    root: Path,
    jobs: list[tuple[str, str, str]],
    *,
    progress: ProgressCallback | None = None,
) -> ShardResult:
    """Read, cut and index `jobs` (relative path, file, fingerprint) into new
    segments of the index at `index_path`, not yet committed: the caller holds the
    write lock and commits them. A segment is closed after SEGMENT_TEXT_CHARS of text,
    so that memory stays bounded on large vaults."""
    from whoosh.writing import SegmentWriter

    ix = whoosh_index.open_dir(str(index_path))
    indexed: list[str] = []
    skipped: list[SkippedFile] = []
    segments: list[Any] = []
    writer: Any = None  # the segment being written, and its postings
    postings = PostingsWriter()
    text_chars = 0
    try:
        for done, (path, file, fingerprint) in enumerate(jobs, 1):
            try:
                document = read_document(Path(file), root).document
            except DocumentError as exc:  # gone or changed since the first pass
                skipped.append(SkippedFile(path, exc.reason))
                continue
            if writer is None:
                writer, postings, text_chars = SegmentWriter(ix, _lk=False), PostingsWriter(), 0
            writer.add_document(**_document_fields(document, fingerprint.encode()))
            add_to_postings(postings, document)
            indexed.append(path)
            text_chars += len(document.body) + len(document.summary)
            if text_chars >= SEGMENT_TEXT_CHARS:
                segments.append(_finish_segment(writer, postings, index_path))
                writer = None
            if progress is not None:
                progress(done, len(jobs))
        if writer is not None:
            segments.append(_finish_segment(writer, postings, index_path))
            writer = None
    finally:
        if writer is not None:
            writer._close_segment()
    return ShardResult(segments, indexed, skipped)


# Text per segment while indexing, which bounds a worker's memory: on the vault, a
# worker peaked at 190 MB with one segment of 4.5 M characters, 140 MB with 2 M.
SEGMENT_TEXT_CHARS = 2_000_000


def _finish_segment(writer: Any, postings: PostingsWriter, index_path: Path) -> Any:
    segment = writer._finalize_segment()
    postings.write(postings_path(index_path, segment))
    return segment


class Index:
    """A searchkit index in a folder.

    >>> ix = Index("index")            # opens, or creates on first update
    >>> stats = ix.update("seeds/")    # incremental: added / changed / removed
    >>> results = ix.search("好莱坞 罢工", limit=10)
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_index_path()
        self._whoosh: Any = None
        self._searcher: Any = None
        self._metadata: tuple[Any, dict[str, Any]] = (None, {})

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return self.path.is_dir() and whoosh_index.exists_in(str(self.path))

    def metadata(self) -> dict[str, Any]:
        """The contents of `searchkit.json`: format, analyzer version, root folder,
        dictionary (read again only when the file changed)."""
        meta_file = self.path / META_FILE
        try:
            info = meta_file.stat()
            if self._metadata[0] != (info.st_mtime_ns, info.st_size):
                self._metadata = ((info.st_mtime_ns, info.st_size), json.loads(meta_file.read_text("utf-8")))
        except (OSError, ValueError):
            return {}
        return dict(self._metadata[1])

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

    def _create(self) -> Any:
        self.path.mkdir(parents=True, exist_ok=True)
        self._whoosh = whoosh_index.create_in(str(self.path), build_schema())
        return self._whoosh

    def __len__(self) -> int:
        if not self.exists:
            return 0
        with self._open().searcher() as searcher:
            return int(searcher.doc_count())

    def indexed_fingerprints(self) -> dict[str, bytes]:
        """Path → fingerprint of every document in the index."""
        if not self.exists:
            return {}
        return self._indexed_column("fingerprint")

    def _indexed_column(self, name: str) -> dict[str, bytes]:
        """Path → the value of a per-document column, for every indexed document."""
        with self._open().reader() as reader:
            if not reader.doc_count_all():  # an empty index has no columns yet
                return {}
            paths = reader.column_reader("path")
            values = reader.column_reader(name)
            return {paths[docnum]: values[docnum] for docnum in reader.all_doc_ids()}

    def update(
        self,
        root: str | os.PathLike[str],
        *,
        rebuild: bool = False,
        follow_links: bool = False,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> IndexStats:
        """Sync the index with the files under `root`.

        New files are added, changed files replaced, deleted files removed;
        unchanged files (same mtime and size) are not read. A file that cannot be
        read is reported in `IndexStats.skipped` and the rest goes on. When the
        dictionary changes (names learned from the vault, or `dictionary.txt`), the
        documents containing the words that changed are indexed again. `rebuild`
        starts from an empty index (needed after a format change); `follow_links`
        follows symlinked folders and symlinks to files outside `root`. `workers`
        processes cut the text side by side (default: one per core, up to 4, when
        there are hundreds of files to index; `$SEARCHKIT_WORKERS` overrides).
        """
        started = time.perf_counter()
        root = Path(root)
        if not root.is_dir():
            raise SearchkitError(f"{root} is not a folder; give the folder of your Markdown files")
        scan = scan_vault(root, follow_links=follow_links)
        if rebuild or not self.exists:
            self.close()
            existing: dict[str, bytes] = {}
            known_words: dict[str, list[str]] = {}
            old_dictionary: set[str] = set()
            writer = self._writer(create=True)
        else:
            # take the lock first: what is indexed must be read after any other
            # writer has committed, or both would add the same files
            writer = self._writer(create=False)
            try:
                existing = self.indexed_fingerprints()
                known_words = self._indexed_keywords()
            except BaseException:
                writer.cancel()
                self._release_writer()
                raise
            old_dictionary = set(self.metadata().get("dictionary", []))

        try:
            removed = [path for path in existing if path not in scan.files]
            to_read = [path for path, (_, fp) in scan.files.items() if existing.get(path) != fp]
            skipped = list(scan.skipped)
            warnings: list[SkippedFile] = []
            # first pass: only the words each file teaches the dictionary, which must be
            # complete before any text is cut; documents are read again as they are
            # added, so memory does not grow with the vault
            readable = self._read_keywords(root, scan, to_read, skipped, warnings)

            for path in removed + list(readable):
                known_words.pop(path, None)
            learned = {w for words in known_words.values() for w in words}
            learned.update(w for words in readable.values() for w in words)
            dictionary = {dictionary_form(w) for w in learned | set(self.user_words())} - {""}
            again: list[str] = []
            if existing and dictionary != old_dictionary:
                affected = self._documents_containing(dictionary ^ old_dictionary)
                again = [p for p in affected if p in scan.files and p not in readable]
                readable.update(self._read_keywords(root, scan, again, skipped, warnings))
            jobs = [(path, str(scan.files[path][0]), scan.files[path][1].decode()) for path in readable]
            results = self._index_in_shards(root, jobs, dictionary, workers, progress)
            indexed = [path for result in results for path in result.indexed]
            for result in results:
                skipped.extend(result.skipped)
            for path in removed:
                writer.delete_by_term("path", path)
            changed = reindexed = 0
            for path in indexed:
                if path in existing:  # replaced only now that its new version is in
                    writer.delete_by_term("path", path)
                    changed += path not in again
                    reindexed += path in again
            added = len(indexed) - changed - reindexed
            self._commit(writer, [segment for result in results for segment in result.segments])
        except BaseException:
            writer.cancel()
            raise
        finally:
            self._release_writer()
        self._write_metadata(root, dictionary)
        return IndexStats(
            added=added,
            changed=changed,
            removed=len(removed),
            unchanged=len(scan.files) - added - changed - reindexed - len(
                {s.path for s in skipped if s.path in scan.files}
            ),
            reindexed=reindexed,
            skipped=tuple(skipped),
            warnings=tuple(warnings),
            documents=len(self),
            elapsed_s=time.perf_counter() - started,
        )

    def _index_in_shards(
        self,
        root: Path,
        jobs: list[tuple[str, str, str]],
        dictionary: set[str],
        workers: int | None,
        progress: ProgressCallback | None,
    ) -> list[ShardResult]:
        """Index documents into new segments: in this process, or split between
        worker processes when there are enough to repay their start-up."""
        count = workers if workers is not None else _default_workers(len(jobs))
        if count <= 1 or len(jobs) < 2:
            set_dictionary(dictionary)
            return [index_shard(self.path, root, jobs, progress=progress)] if jobs else []
        # the segmenter is not loaded here: only the workers cut text
        from .workers import run_shards

        return run_shards(self.path, root, _split(jobs, count), sorted(dictionary), progress)

    def _commit(self, writer: Any, new_segments: list[Any]) -> None:
        """Whoosh's `SegmentWriter.commit` with searchkit's merge policy: the new
        segments (postings files written) join the index in one commit."""
        postings = PostingsWriter()
        segments = _merge_small_segments(writer, postings, self.path, new_segments)
        if writer._added:
            segment = writer._finalize_segment()
            postings.write(postings_path(self.path, segment))
            segments.append(segment)
        else:
            writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()

    def _read_keywords(
        self,
        root: Path,
        scan: _Scan,
        paths: list[str],
        skipped: list[SkippedFile],
        warnings: list[SkippedFile],
    ) -> dict[str, tuple[str, ...]]:
        """Path → dictionary words of each file that can be read; the others are
        reported in `skipped`."""
        keywords = {}
        for path in paths:
            try:
                loaded = read_document(scan.files[path][0], root)
            except DocumentError as exc:
                skipped.append(SkippedFile(path, exc.reason))
                continue
            if loaded.warning:
                warnings.append(SkippedFile(path, loaded.warning))
            keywords[path] = loaded.document.keywords
        return keywords

    def _indexed_keywords(self) -> dict[str, list[str]]:
        """Path → the dictionary words each indexed document contributed."""
        return {
            path: words.decode("utf-8").split("\n")
            for path, words in self._indexed_column("keywords").items()
            if words
        }

    def _documents_containing(self, words: set[str]) -> set[str]:
        """Paths of indexed documents whose text contains any of `words` (searched
        with the dictionary the index was built with)."""
        self._activate_dictionary()
        searcher = self._current_searcher()
        ranker = Ranker(searcher)
        found: set[int] = set()
        for word in words:
            tokens = query_tokens(word)
            if not tokens:
                continue
            found.update(intersection([ranker.token(t, alone=len(tokens) == 1) for t in tokens]))
        paths = ranker.paths()
        return {paths[docnum] for docnum in found}

    # -- the dictionary --

    @property
    def user_dictionary_path(self) -> Path:
        """`dictionary.txt` in the index folder: one word per line, `#` comments."""
        return self.path / USER_DICTIONARY_FILE

    def user_words(self) -> list[str]:
        """The words a user added (`searchkit dict add`)."""
        try:
            lines = self.user_dictionary_path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentError(self.user_dictionary_path, f"cannot read the dictionary: {exc}") from exc
        return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]

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
            self._write_user_words(current + new)
        return new

    def remove_words(self, words: Iterable[str]) -> list[str]:
        """Remove words from the user dictionary; returns those that were there."""
        unwanted = {dictionary_form(w) for w in words}
        current = self.user_words()
        kept = [w for w in current if dictionary_form(w) not in unwanted]
        if len(kept) != len(current):
            self._write_user_words(kept)
        return [w for w in current if dictionary_form(w) in unwanted]

    def _write_user_words(self, words: list[str]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        header = "# searchkit user dictionary: one word per line; applied by the next `searchkit index`\n"
        temporary = self.path / f"{USER_DICTIONARY_FILE}.tmp"
        temporary.write_text(header + "".join(f"{w}\n" for w in words), "utf-8")
        os.replace(temporary, self.user_dictionary_path)

    def dictionary(self) -> list[str]:
        """Every word in the dictionary the index was built with (learned and added)."""
        return sorted(self.metadata().get("dictionary", []))

    def root(self) -> Path | None:
        """The folder the index was last built from (hits' paths are relative to it)."""
        root = self.metadata().get("root")
        return Path(root) if root else None

    def _activate_dictionary(self) -> None:
        set_dictionary(self.metadata().get("dictionary", []) if self.exists else [])

    def _writer(self, *, create: bool) -> Any:
        self.path.mkdir(parents=True, exist_ok=True)
        # Take the lock before touching anything, so a rebuild cannot wipe an index
        # that another process is writing.
        from whoosh.index import LockError

        try:
            if create:
                guard = self._storage().lock(WHOOSH_WRITE_LOCK)
                if not guard.acquire(blocking=False):
                    raise LockError()
                try:
                    ix = self._create()
                finally:
                    guard.release()
            else:
                ix = self._open()
            # 64 MB of postings in memory: peak RSS on the vault 390 MB (594 MB at 256), same time
            writer = ix.writer(limitmb=64)
        except LockError:
            raise IndexLockedError(self.path, self._lock_holder()) from None
        (self.path / WRITER_PID_FILE).write_text(str(os.getpid()))
        return writer

    def _storage(self) -> Any:
        from whoosh.filedb.filestore import FileStorage

        return FileStorage(str(self.path))

    def _lock_holder(self) -> str | None:
        try:
            return f"pid {int((self.path / WRITER_PID_FILE).read_text().strip())}"
        except (OSError, ValueError):
            return None

    def _release_writer(self) -> None:
        try:
            (self.path / WRITER_PID_FILE).unlink()
        except OSError:
            pass

    def _write_metadata(self, root: Path, dictionary: set[str]) -> None:
        meta = {
            "format": INDEX_FORMAT,
            "analyzer": ANALYZER_VERSION,
            "root": str(root.resolve()),
            "dictionary": sorted(dictionary),
        }
        temporary = self.path / f"{META_FILE}.tmp"
        temporary.write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
        os.replace(temporary, self.path / META_FILE)

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
        facets: Iterable[str] = (),
    ) -> SearchResults:
        """Search the index; hits are complete objects, usable after the index closes.

        query: words (all must match), "phrases", OR, -word, and filters such as
            tag:AI, author:宝玉, source:微信公众号, path:01-博客/, title:罢工,
            date:2024, date:2024-07, date:2023-05..2023-11, date:>=2024-01-01.
        limit, offset: the page of hits; `total` counts every match.
        sort: "relevance" (newest first when the query has only filters), "date"
            (oldest first), "-date" (newest first) or "title"; undated documents last.
        facets: any of "tag", "source", "author", "year": counts over all matches.

        >>> results = Index("index").search("好莱坞 罢工", limit=10)
        >>> [hit.path for hit in results]
        """
        searcher = self._current_searcher()
        self._activate_dictionary()
        return run_search(
            searcher, query, limit=limit, offset=offset, sort=sort, facets=facets, root=self.root()
        )

    def related(self, path: str, *, limit: int = 10) -> SearchResults:
        """Documents most related to the one at `path`: shared distinctive words
        and shared tags.

        >>> [hit.path for hit in Index("index").related("00-元语/Claude Code.md")]
        """
        searcher = self._current_searcher()
        self._activate_dictionary()
        docnum = searcher.document_number(path=path)
        if docnum is None:
            raise DocumentError(path, "not in the index; give its path as `searchkit query` shows it")
        return related_documents(searcher, docnum, path, self.root(), limit=limit)

    def _current_searcher(self) -> Any:
        """An open searcher on the latest commit, kept between searches: opening one
        reads the term index, which costs more than a typical query."""
        if self._searcher is None:
            self._searcher = self._open().searcher()
        elif not self._searcher.up_to_date():
            self._searcher = self._searcher.refresh()
        # Open the postings files now, beside the Whoosh files the searcher holds open:
        # a commit that merges segments deletes both. If one went between the two
        # openings, a newer commit exists: take it.
        for attempt in range(3):
            try:
                Ranker(self._searcher).segments()
                break
            except IndexDamagedError:
                if attempt == 2 or self._searcher.up_to_date():
                    raise
                self._searcher = self._searcher.refresh()
        return self._searcher

    def close(self) -> None:
        """Release the open files of the index (also done on exit from `with`)."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._whoosh = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def explain(self, query: str, path: str) -> Explanation:
        """Why the document at `path` (relative to the indexed folder) ranks where it
        does for `query`: its tokens, and the score of each term in each field."""
        searcher = self._current_searcher()
        self._activate_dictionary()
        docnum = searcher.document_number(path=path)
        if docnum is None:
            raise DocumentError(path, "not in the index; give its path as `searchkit query` shows it")
        return explain_document(searcher, query, docnum, path)

    def documents(self) -> Iterator[str]:
        """Paths of every indexed document."""
        yield from sorted(self.indexed_fingerprints())
