"""Keeping an index in step with its folder as files change (`searchkit watch`, and
`searchkit serve` unless --no-watch). The only module that imports watchfiles.

Each burst of changes (an editor's save-by-rename, a `git checkout` of thousands of
files) is gathered for a moment, then one incremental `Index.update` syncs the index
on disk: only new and changed files are read. While another process holds the
index's write lock, the sync is tried again every second.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import watchfiles

from .documents import is_document_file
from .errors import IndexLockedError, SearchkitError
from .index import Index
from .results import IndexStats

# after a change, wait until the folder has been quiet this long, but no longer than
# DEBOUNCE_MS in all, before syncing
QUIET_MS = 150
DEBOUNCE_MS = 1000
RETRY_MS = 1000
NAMES_SHOWN = 3
# Documents indexed again for a dictionary change per sync (a new note titled 模型
# touches half the vault): none in a sync of new changes, which are searchable first;
# then this many a sync, between the syncs of later changes.
REINDEX_CHUNK = 100


class _Stopped(Exception):
    """Raised inside a sync when the watcher is asked to stop: the sync is cancelled."""


class Follower:
    """Watches `root` and syncs the index at `index_path` with it until `stop()`.
    Each sync that changed something is told to `report` as one line."""

    def __init__(self, index_path: Path, root: Path, report: Callable[[str], None]) -> None:
        self.index_path = index_path
        self.root = root
        self.report = report
        self.syncs = 0
        self._stopping = threading.Event()
        self._real_root = Path(os.path.realpath(root))
        self._real_index = Path(os.path.realpath(index_path))
        self._waiting = False

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        """Watch and sync until `stop()` (from another thread or a signal handler)."""
        changed: set[str] = set()
        pending = False  # changes seen but not synced yet: the index was locked
        with Index(self.index_path) as ix:
            for batch in watchfiles.watch(
                self.root,
                watch_filter=self.is_relevant,
                debounce=DEBOUNCE_MS,
                step=QUIET_MS,
                stop_event=self._stopping,
                rust_timeout=RETRY_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                if self._stopping.is_set():
                    break
                changed.update(path for _, path in batch)
                if batch or pending:
                    synced, deferred = self._sync(ix, changed)
                    pending = not synced or deferred
                    if synced:
                        changed.clear()

    def is_relevant(self, change: watchfiles.Change, path: str) -> bool:
        """A change that can alter what the index holds: to a document file, or to a
        folder (renamed or deleted with its files). Hidden folders and files (.git,
        .obsidian, editors' swap files) and the index's own files are not."""
        absolute = Path(path)
        try:
            relative = absolute.relative_to(self.root)
        except ValueError:
            try:
                relative = Path(os.path.realpath(absolute)).relative_to(self._real_root)
            except ValueError:
                return False
        if any(part.startswith(".") for part in relative.parts):
            return False
        real = Path(os.path.realpath(absolute))
        if real == self._real_index or real.is_relative_to(self._real_index):
            return False
        if is_document_file(absolute.name) or absolute.is_dir():
            return True
        return "." not in absolute.name and not absolute.exists()  # a folder that went

    def _sync(self, ix: Index, changed: set[str]) -> tuple[bool, bool]:
        """One incremental sync: whether it was done (not: try again later), and
        whether documents are left to index again for the dictionary."""
        try:
            limit = 0 if changed else REINDEX_CHUNK
            stats = ix.update(self.root, progress=self._check_stop, reindex_limit=limit)
        except IndexLockedError as exc:
            if not self._waiting:
                self.report(f"waiting: {exc}")
                self._waiting = True
            return False, False
        except _Stopped:
            return True, False
        except SearchkitError as exc:
            self.report(f"cannot sync: {exc}")
            return True, False
        self._waiting = False
        self.syncs += 1
        line = describe(stats, self._document_names(changed))
        if line:
            self.report(line)
        for skipped in stats.skipped:
            if not skipped.repeated:
                self.report(f"skipped {skipped.path}: {skipped.reason}")
        return True, stats.deferred > 0

    def _check_stop(self, done: int, total: int) -> None:
        if self._stopping.is_set():
            raise _Stopped

    def _document_names(self, changed: set[str]) -> list[str]:
        names = []
        for path in sorted(changed):
            try:
                names.append(Path(path).relative_to(self.root).as_posix())
            except ValueError:
                names.append(path)
        return names


def describe(stats: IndexStats, names: list[str]) -> str:
    """One line for a sync that changed the index ("" when it did not)."""
    counts = [
        f"{count} {what}"
        for count, what in (
            (stats.added, "added"),
            (stats.changed, "changed"),
            (stats.removed, "removed"),
            (stats.reindexed, "re-indexed for the dictionary"),
        )
        if count
    ]
    if not counts:
        return ""
    more = len(names) - NAMES_SHOWN
    shown = ", ".join(names[:NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")
    when = time.strftime("%H:%M:%S")
    left = f", {stats.deferred} more to re-index" if stats.deferred else ""
    what = f" ({shown})" if shown else ""
    return f"{when} synced {', '.join(counts)}{what}: {stats.documents} documents{left}, {stats.elapsed_s:.2f} s"


def follow_until_stopped(follower: Follower) -> None:
    """Run `follower` in this (main) thread; Ctrl-C and SIGTERM stop it cleanly, a
    sync under way being cancelled rather than left half-written."""

    def stop(signum: int, frame: FrameType | None) -> None:
        follower.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        follower.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def follow_in_background(follower: Follower) -> threading.Thread:
    """Run `follower` in a thread of its own (the server's process); `stop()` ends it."""

    def run() -> None:
        try:
            follower.run()
        except Exception as exc:  # noqa: BLE001 - the server goes on, serving the index as it is
            follower.report(f"stopped watching {follower.root}: {exc}")

    thread = threading.Thread(target=run, name="searchkit-watch", daemon=True)
    thread.start()
    return thread
