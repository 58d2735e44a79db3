"""`searchkit serve` and `searchkit watch` as real processes (issue #15): changes to
the folder become searchable, through the API and through `searchkit query` on the
same index, within a deadline; the measured delays are printed. Ctrl-C and SIGTERM
stop them cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit import Index
from searchkit.cli import cli
from searchkit.store import Store

from .conftest import SHARED_VAULT, write
from .serving import Running, get_json, poll, serve

DEADLINE_S = 15


def totals(url: str, index: Path, query: str) -> tuple[int, int]:
    """Matches for `query` by the server's API and by `searchkit query` on its index."""
    by_api = get_json(url, "/api/search", q=query, limit="0")["total"]
    result = CliRunner().invoke(cli, ["query", query, "--index", str(index), "--limit", "0", "--json"])
    assert result.exit_code == 0, result.output
    return by_api, json.loads(result.stdout)["total"]


def paths(url: str, query: str) -> list[str]:
    return [hit["path"] for hit in get_json(url, "/api/search", q=query)["hits"]]


def report(capsys: pytest.CaptureFixture[str], what: str, delays: dict[str, float]) -> None:
    with capsys.disabled():
        shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in delays.items())
        print(f"\n{what}: save → searchable: {shown}")


def test_changes_become_searchable_and_a_stop_is_clean(
    vault: Path, isolated_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running, url = serve(vault, isolated_index)
    delays = {}
    try:
        note = vault / "00-元语" / "Claude Code.md"
        with note.open("a", encoding="utf-8") as file:
            file.write("\n追加一个词 zebrasync\n")
        delays["appended"] = poll(lambda: totals(url, isolated_index, "zebrasync") == (1, 1), DEADLINE_S)

        write(vault / "新建" / "新笔记.md", "# 新笔记\n\n这是一篇新的笔记 quokkaword\n")
        delays["added"] = poll(lambda: totals(url, isolated_index, "quokkaword") == (1, 1), DEADLINE_S)

        renamed = vault / "00-元语" / "Claude Code 改名.md"
        note.rename(renamed)
        delays["renamed"] = poll(lambda: paths(url, "zebrasync") == ["00-元语/Claude Code 改名.md"], DEADLINE_S)

        (vault / "新建" / "新笔记.md").unlink()
        delays["deleted"] = poll(lambda: totals(url, isolated_index, "quokkaword") == (0, 0), DEADLINE_S)

        # an editor's save: a hidden temporary file renamed over the note
        temporary = renamed.parent / ".Claude Code 改名.md.swp"
        temporary.write_text(renamed.read_text("utf-8").replace("zebrasync", "wombatsave"), "utf-8")
        os.replace(temporary, renamed)
        delays["saved by rename"] = poll(
            lambda: totals(url, isolated_index, "wombatsave") == (1, 1)
            and totals(url, isolated_index, "zebrasync") == (0, 0),
            DEADLINE_S,
        )

        shutil.rmtree(vault / "01-博客")
        delays["folder deleted"] = poll(lambda: not any(p.startswith("01-博客/") for p in paths(url, "AI")), DEADLINE_S)

        # a browser that goes away in the middle of an answer
        host, port = urllib.parse.urlsplit(url).netloc.rsplit(":", 1)
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(b"GET /api/search?q=AI&limit=100 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    finally:
        stop_s = running.stop(signal.SIGTERM)
    report(capsys, "small folder", delays)
    assert running.process.returncode == 0
    assert stop_s < 5
    log = "".join(running.stderr)
    assert "Traceback" not in log and "ERROR" not in log and "Exception" not in log
    assert "synced" in log
    stats = Index(isolated_index).update(vault)  # nothing was left locked or half-written
    assert stats.added == stats.changed == stats.removed == 0


def test_the_watcher_waits_for_another_writer_and_keeps_up_with_a_burst(
    vault: Path, isolated_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running, url = serve(vault, isolated_index)
    delays = {}
    try:
        other_writer = Store(isolated_index).writer(create=False)
        try:
            write(vault / "locked.md", "# 锁\n\n写锁期间 lockedword\n")
            poll(lambda: any("waiting" in line for line in running.stderr), DEADLINE_S)
            result = CliRunner().invoke(cli, ["index", str(vault), "--index", str(isolated_index)])
            assert result.exit_code == 1 and "being updated by another process" in result.output
        finally:
            other_writer.cancel()
        delays["after the lock"] = poll(lambda: totals(url, isolated_index, "lockedword") == (1, 1), DEADLINE_S)

        started = time.monotonic()
        for number in range(200):
            write(vault / "burst" / f"{number:03}.md", f"# 第{number}篇\n\n批量 burstword 第{number}篇\n")
        delays["200 files"] = poll(lambda: totals(url, isolated_index, "burstword") == (200, 200), DEADLINE_S)
        delays["200 files, from the first write"] = time.monotonic() - started
    finally:
        stop_s = running.stop(signal.SIGINT)
    report(capsys, "lock and burst", delays)
    assert running.process.returncode == 0 and stop_s < 5
    assert "Traceback" not in "".join(running.stderr)


def test_watch_prints_a_line_per_sync_and_stops_on_ctrl_c(vault: Path, isolated_index: Path) -> None:
    Index(isolated_index).update(vault)
    watching = Running("watch", "--index", str(isolated_index))
    try:
        poll(lambda: any("watching" in line for line in watching.stderr), 60)
        time.sleep(0.5)
        write(vault / "看门.md", "# 看门\n\nwatchword\n")
        line = watching.wait_for_line(lambda line: "synced" in line, DEADLINE_S)
        assert "1 added" in line and "看门.md" in line
        assert Index(isolated_index).search("watchword").total == 1
    finally:
        stop_s = watching.stop(signal.SIGINT)
    assert watching.process.returncode == 0 and stop_s < 5
    assert "Traceback" not in "".join(watching.stderr)


def test_serve_builds_a_missing_index_and_no_watch_serves_it_as_it_is(vault: Path, isolated_index: Path) -> None:
    running, url = serve(vault, isolated_index, "--no-watch")
    try:
        assert "indexed" in "".join(running.stderr)
        assert get_json(url, "/api/search", q="好莱坞 罢工")["total"] == 3
        write(vault / "later.md", "# 以后\n\nlaterword\n")
        time.sleep(2)
        assert get_json(url, "/api/search", q="laterword")["total"] == 0
    finally:
        running.stop()
    assert running.process.returncode == 0


@pytest.mark.skipif(not SHARED_VAULT.is_dir(), reason="the vault is not beside the repo")
def test_vault_copy_save_to_searchable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "kb"
    shutil.copytree(SHARED_VAULT, copy)
    index = tmp_path / "kb-index"
    Index(index).update(copy)
    running, url = serve(copy, index)
    delays = {}
    try:
        note = next(iter(sorted(copy.rglob("*.md"))))
        for round_number in range(3):
            word = f"vaultword{round_number}x"
            with note.open("a", encoding="utf-8") as file:
                file.write(f"\n{word}\n")
            delays[f"edit {round_number + 1}"] = poll(lambda w=word: totals(url, index, w) == (1, 1), DEADLINE_S)
        write(copy / "一篇关于本地运行开源大模型的新笔记.md", "# 一篇关于本地运行开源大模型的新笔记\n\nvaultnewword\n")
        delays["new file"] = poll(lambda: totals(url, index, "vaultnewword") == (1, 1), DEADLINE_S)
        # a short title is learned as a name: the notes holding it (half the vault for
        # 模型) are cut again afterwards, a chunk at a time, after the note is searchable
        write(copy / "模型.md", "# 模型\n\nvaultshorttitle\n")
        delays["new file titled 模型"] = poll(lambda: totals(url, index, "vaultshorttitle") == (1, 1), DEADLINE_S)
        assert Index(index).metadata()["pending"]  # the re-indexing is still under way
    finally:
        running.stop()
    report(capsys, "vault copy (3,277 files)", delays)
    assert running.process.returncode == 0
