"""Indexing in worker processes gives the same index as indexing in one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from searchkit import Index, SearchkitError

from .conftest import SEED, write

QUERIES = ["好莱坞 罢工", "Claude Code", "卡梅隆", "莱坞", '"Stability AI"', "tag:AI", "寶可夢", "卡"]


def _results(ix: Index) -> list[list[tuple[str, float, str]]]:
    return [[(h.path, round(h.score, 6), h.snippet) for h in ix.search(q, limit=20)] for q in QUERIES]


def test_workers_build_the_same_index(vault: Path, tmp_path: Path) -> None:
    one = Index(tmp_path / "one")
    two = Index(tmp_path / "two")
    stats_one = one.update(vault, workers=1)
    stats_two = two.update(vault, workers=2)
    assert stats_one.to_dict() | {"elapsed_s": 0} == stats_two.to_dict() | {"elapsed_s": 0}
    assert len(list((tmp_path / "two").glob("*.skp"))) == 1  # the two workers' segments, merged
    assert _results(one) == _results(two)
    assert [h.path for h in two.search("好莱坞 罢工")][0] == SEED


def test_a_worker_skips_what_it_cannot_read_and_the_rest_is_indexed(vault: Path, tmp_path: Path) -> None:
    write(vault / "bad.md", "")
    (vault / "bad.md").write_bytes(b"\x00\x01binary\x00" * 100)
    ix = Index(tmp_path / "ix")
    stats = ix.update(vault, workers=2)
    assert [s.path for s in stats.skipped] == ["bad.md"]
    assert stats.added == len(list(vault.rglob("*.md"))) - 1


def _workers_of(parent: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
            ppid = int(Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"searchkit.workers" in command:
            found.add(int(entry))
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z":
            alive.add(pid)
    return alive


def test_killed_parent_leaves_no_worker_and_no_lock(tmp_path: Path) -> None:
    vault, index_path = tmp_path / "vault", tmp_path / "index"
    for i in range(400):
        write(vault / f"d{i:03}.md", f"---\ntitle: 文档{i}\n---\n标记{i}号 好莱坞罢工的正文。" * 40)
    script = "import sys; from searchkit import Index; Index(sys.argv[1]).update(sys.argv[2], workers=2)"
    parent = subprocess.Popen([sys.executable, "-c", script, str(index_path), str(vault)])
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
        workers = _workers_of(parent.pid)
        time.sleep(0.05)
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(workers)  # they notice the parent is gone and stop
    ix = Index(index_path)
    stats = ix.update(vault)  # the lock was not left held
    assert stats.documents == 400
    assert [h.path for h in ix.search("标记7号")] == ["d007.md"]


def test_a_worker_that_cannot_start_is_a_clear_error(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(SearchkitError, match="SEARCHKIT_WORKERS=1"):
        Index(tmp_path / "ix").update(vault, workers=2)
    # nothing was committed, and the lock was released
    assert Index(tmp_path / "ix").update(vault, workers=1).added == len(list(vault.rglob("*.md")))
