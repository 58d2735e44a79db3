"""Keeping an index in step with a folder: scan it, decide what to add, replace and
remove, learn the dictionary, index the text in shards, commit once.

Each document's fingerprint (mtime and size) sits in the index beside its path, so
the index alone says what is indexed and a sync needs no second bookkeeping file
that could disagree with it.
"""

from __future__ import annotations

import errno
import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .analysis import Analyzer, dictionary_form
from .documents import is_document_file, read_document, read_undecoded, relative_path
from .errors import DocumentError, SearchkitError
from .indexfiles import META_FILE
from .records import Fingerprint
from .results import IndexStats, ProgressCallback, SkippedFile
from .search import documents_containing
from .shard import Job, ShardResult, index_shard
from .store import Store, StoreWriter

# Below this many documents a worker process costs more (start-up, loading the
# segmenter) than it saves.
MIN_DOCUMENTS_PER_WORKER = 300
MAX_WORKERS = 4


@dataclass
class Scan:
    """The document files under a folder, by path relative to it."""

    files: dict[str, Job] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)


def scan_folder(root: Path, *, follow_links: bool = False, index: Path | None = None) -> Scan:
    """Every document file under `root` with its fingerprint; hidden folders and files
    are skipped, and so are searchkit indexes (`index`, and any folder holding one).
    Symlinks to files outside `root` and symlinked folders are followed only with
    `follow_links` (and then each folder is visited once, so loops end)."""
    scan = Scan()
    own_index = os.path.realpath(index) if index is not None else None
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
        if is_index_folder(folder, filenames) or os.path.realpath(folder) == own_index:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if is_document_file(name):
                _add_file(scan, Path(folder, name), root, real_root, follow_links)
    return scan


def is_index_folder(folder: str, filenames: list[str]) -> bool:
    """A folder holding a searchkit index: its own files would be indexed as notes."""
    return META_FILE in filenames or any(name.startswith("_MAIN_") and name.endswith(".toc") for name in filenames)


def _add_file(scan: Scan, path: Path, root: Path, real_root: Path, follow_links: bool) -> None:
    rel = relative_path(path, root)
    if _UNDECODED.search(rel):  # bytes of another encoding in the name: the index keeps text only
        reading, as_gb18030 = read_undecoded(rel)
        guess = f" (as GB18030: {reading})" if as_gb18030 else ""
        shown = os.fsencode(rel).decode("utf-8", "replace")
        scan.skipped.append(SkippedFile(shown, f"the file name is not UTF-8{guess}; rename the file to index it"))
        return
    try:
        if not follow_links and path.is_symlink() and not path.resolve().is_relative_to(real_root):
            scan.skipped.append(SkippedFile(rel, "symlink to a file outside the folder"))
            return
        stat = path.stat()
    except RuntimeError:  # Path.resolve() on a symlink loop
        scan.skipped.append(SkippedFile(rel, "symlink loop"))
        return
    except OSError as exc:
        reason = "symlink loop" if exc.errno == errno.ELOOP else f"cannot read: {exc.strerror}"
        scan.skipped.append(SkippedFile(rel, reason))
        return
    scan.files[rel] = Job(rel, str(path), Fingerprint.of(stat))


_UNDECODED = re.compile("[\udc80-\udcff]")


def _safe_relative(path: Path, root: Path) -> str:
    try:
        return relative_path(path, root)
    except ValueError:
        return str(path)


@dataclass
class _Changes:
    """What a sync found to do, and what it met on the way."""

    existing: set[str]  # paths indexed before this sync
    removed: list[str]
    readable: dict[str, tuple[str, ...]]  # path → dictionary words, of each file to index
    again: list[str]  # unchanged files to index again for the dictionary
    dictionary: set[str]
    pending: list[str]  # unchanged files left to index again for it, by a later sync
    skipped: list[SkippedFile]
    warnings: list[SkippedFile] = field(default_factory=list)


def sync_folder(
    store: Store,
    root: Path,
    built_with: Analyzer,
    indexing: Analyzer,
    *,
    rebuild: bool = False,
    follow_links: bool = False,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    index_folder: Path | None = None,
    reindex_limit: int | None = None,
) -> IndexStats:
    """Sync the index in `store` with the files under `root` (see `Index.update`);
    `index_folder` (default: the store's) is never scanned.
    `built_with` is given the dictionary the index was built with, should the sync
    need to find the documents that changed words match; `indexing` takes the new
    one and cuts the text indexed in this process. `reindex_limit`: at most this many
    unchanged documents are indexed again for the dictionary; the others are left
    for the next syncs (recorded in the metadata), so that the change is searchable first."""
    started = time.perf_counter()
    _check_folder(root)
    recorded = store.metadata().get("root") if store.exists and not rebuild else None
    if recorded and Path(recorded) != root.resolve():
        raise SearchkitError(
            f"the index at {store.path} holds {recorded}, not {root}; run `searchkit index {root} --rebuild "
            f"--index {store.path}` to replace it, or give {root} an index of its own with --index"
        )
    scan = scan_folder(root, follow_links=follow_links, index=index_folder or store.path)
    create = rebuild or not store.exists
    # take the lock first: what is indexed must be read after any other writer has
    # committed, or both would add the same files
    writer = store.writer(create=create)
    try:
        changes = _find_changes(store, root, scan, built_with, fresh=create, reindex_limit=reindex_limit)
        indexing.set_words(changes.dictionary)
        jobs = [scan.files[path] for path in changes.readable]
        results = index_jobs(store.path, root, jobs, indexing, workers, progress)
        stats = _apply(writer, scan, changes, results)
    except BaseException:
        writer.cancel()
        raise
    # a file skipped unchanged for the reason the last run gave is `repeated`: a user
    # need not be told again
    records = {s.path: _skip_record(scan, s) for s in stats.skipped}
    before = store.metadata().get("skipped") or {}
    skipped = tuple(replace(s, repeated=before.get(s.path) == records[s.path]) for s in stats.skipped)
    store.write_metadata(root, changes.dictionary, records, changes.pending)
    return replace(
        stats,
        skipped=skipped,
        deferred=len(changes.pending),
        documents=store.doc_count(),
        elapsed_s=time.perf_counter() - started,
    )


def _skip_record(scan: Scan, skipped: SkippedFile) -> list[str]:
    """What says a skip is the same as last time: the file's fingerprint and the reason."""
    job = scan.files.get(skipped.path)
    return [job.fingerprint.encode().decode() if job else "", skipped.reason]


def _check_folder(root: Path) -> None:
    if not root.is_dir():
        raise SearchkitError(f"{root} is not a folder; give the folder of your Markdown files")


def rebuild_folder(
    store: Store,
    root: Path,
    built_with: Analyzer,
    indexing: Analyzer,
    *,
    follow_links: bool = False,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> IndexStats:
    """Index every file under `root` into a new index built beside the one in
    `store`, which stays as it is for readers until the new one replaces it whole."""
    _check_folder(root)  # before the rebuild makes any folder
    with store.rebuilding() as aside:
        stats = sync_folder(
            aside,
            root,
            built_with,
            indexing,
            rebuild=True,
            follow_links=follow_links,
            workers=workers,
            progress=progress,
            index_folder=store.path,
        )
    return replace(stats, documents=store.doc_count())


def _find_changes(
    store: Store, root: Path, scan: Scan, built_with: Analyzer, *, fresh: bool, reindex_limit: int | None
) -> _Changes:
    existing = {} if fresh else _indexed_fingerprints(store)
    known_words = {} if fresh else _indexed_keywords(store)
    old_dictionary: set[str] = set() if fresh else set(store.metadata().get("dictionary", []))
    removed = [path for path in existing if path not in scan.files]
    to_read = [path for path, job in scan.files.items() if existing.get(path) != job.fingerprint]
    changes = _Changes(set(existing), removed, {}, [], set(), [], list(scan.skipped))
    # first pass: only the words each file teaches the dictionary, which must be
    # complete before any text is cut; documents are read again as they are added,
    # so memory does not grow with the vault
    changes.readable = _read_keywords(root, scan, to_read, changes)
    for path in removed + list(changes.readable):
        known_words.pop(path, None)
    learned = {w for words in known_words.values() for w in words}
    learned.update(w for words in changes.readable.values() for w in words)
    changes.dictionary = {dictionary_form(w) for w in learned | set(store.read_user_words())} - {""}
    again = [] if fresh else list(store.metadata().get("pending", []))  # left by an earlier sync
    if existing and changes.dictionary != old_dictionary:
        built_with.set_words(old_dictionary)  # as the index was built, whatever a search last saw
        snapshot = store.snapshot()
        try:
            again.extend(documents_containing(snapshot, built_with, changes.dictionary ^ old_dictionary))
        finally:
            snapshot.close()
    again = sorted({path for path in again if path in scan.files and path not in changes.readable})
    limit = len(again) if reindex_limit is None else reindex_limit
    changes.again, changes.pending = again[:limit], again[limit:]
    changes.readable.update(_read_keywords(root, scan, changes.again, changes))
    return changes


def _apply(writer: StoreWriter, scan: Scan, changes: _Changes, results: list[ShardResult]) -> IndexStats:
    """Delete what went or changed, commit the new segments; the counts of what was done."""
    indexed = [path for result in results for path in result.indexed]
    skipped = changes.skipped
    for result in results:
        skipped.extend(result.skipped)
    for path in changes.removed:
        writer.delete(path)
    again = set(changes.again)
    changed = reindexed = 0
    for path in indexed:
        if path in changes.existing:  # replaced only now that its new version is in
            writer.delete(path)
            reindexed += path in again
            changed += path not in again
    writer.commit([segment for result in results for segment in result.segments])
    added = len(indexed) - changed - reindexed
    unreadable = len({s.path for s in skipped if s.path in scan.files})
    return IndexStats(
        added=added,
        changed=changed,
        removed=len(changes.removed),
        unchanged=len(scan.files) - added - changed - reindexed - unreadable,
        reindexed=reindexed,
        skipped=tuple(skipped),
        warnings=tuple(changes.warnings),
    )


def _indexed_fingerprints(store: Store) -> dict[str, Fingerprint | None]:
    return {path: Fingerprint.decode(raw) for path, raw in store.column_by_path("fingerprint").items()}


def _indexed_keywords(store: Store) -> dict[str, list[str]]:
    """Path → the dictionary words each indexed document contributed."""
    return {
        path: words.decode("utf-8").split("\n")
        for path, words in store.column_by_path("keywords").items()
        if words
    }


def _read_keywords(root: Path, scan: Scan, paths: list[str], changes: _Changes) -> dict[str, tuple[str, ...]]:
    """Path → dictionary words of each file that can be read; the others are
    reported in `changes.skipped`."""
    keywords = {}
    for path in paths:
        try:
            loaded = read_document(Path(scan.files[path].file), root)
        except DocumentError as exc:
            changes.skipped.append(SkippedFile(path, exc.reason))
            continue
        if loaded.warning:
            changes.warnings.append(SkippedFile(path, loaded.warning))
        keywords[path] = loaded.document.keywords
    return keywords


def index_jobs(
    index_path: Path,
    root: Path,
    jobs: list[Job],
    analyzer: Analyzer,
    workers: int | None,
    progress: ProgressCallback | None,
) -> list[ShardResult]:
    """Index documents into new segments: in this process, or split between worker
    processes when there are enough to repay their start-up."""
    count = workers if workers is not None else default_workers(len(jobs))
    if count <= 1 or len(jobs) < 2:
        return [index_shard(index_path, root, jobs, analyzer, progress=progress)] if jobs else []
    # the segmenter is not loaded here: only the workers cut text
    from .workers import run_shards

    return run_shards(index_path, root, split(jobs, count), sorted(analyzer.words), progress)


def default_workers(documents: int) -> int:
    configured = os.environ.get("SEARCHKIT_WORKERS", "").strip()
    if configured.isdigit():
        return int(configured)
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS, documents // MIN_DOCUMENTS_PER_WORKER))


def split(jobs: list[Job], count: int) -> list[list[Job]]:
    """`count` shares of about equal bytes (largest files first, each to the lightest share)."""
    shares: list[list[Job]] = [[] for _ in range(count)]
    loads = [0] * count
    for job in sorted(jobs, key=lambda job: job.fingerprint.size, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(job)
        loads[lightest] += job.fingerprint.size
    return [share for share in shares if share]
