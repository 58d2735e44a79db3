"""Nothing lost when the user slips (issue #12): text in any section, code kept
verbatim, rebuilds that keep the old index until the new one is in, another folder,
an index inside the vault, loops, odd bytes, bad dates."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit import Index, QueryError
from searchkit.cli import cli

from .conftest import SEED, write

NOTE = """---
title: 带批注的笔记
---
## 摘要
一段摘要。

## 正文
正文里说的是别的事情。

## 关联主题
- [[00-元语/AI]]
- [[00-元语/llm]]

我的批注：瓦尔登湖值得重读。
"""


def test_text_after_the_topics_heading_is_indexed_and_shown(tmp_path: Path) -> None:
    write(tmp_path / "vault" / "note.md", NOTE)
    ix = Index(tmp_path / "index")
    ix.update(tmp_path / "vault")
    hits = ix.search("瓦尔登湖").hits
    assert [h.path for h in hits] == ["note.md"] and "<mark>瓦尔登湖</mark>" in hits[0].snippet
    assert ix.search("tag:AI").total == 1  # the links are still tags
    assert ix.search("00-元语").total == 0  # and not body text


def test_code_spans_and_fences_keep_their_angle_brackets(tmp_path: Path) -> None:
    text = "记忆放在 `~/.claude/projects/<project>/memory/` 里。\n\n```\n<div>**不是粗体**</div>\n- 不是列表\n```\n"
    write(tmp_path / "vault" / "code.md", text)
    ix = Index(tmp_path / "index")
    ix.update(tmp_path / "vault")
    hit = ix.search("memory").hits[0]
    assert "~/.claude/projects/&lt;project&gt;/" in hit.snippet
    assert "~/.claude/projects/<project>/memory/" in hit.snippet_text
    hit = ix.search("不是粗体").hits[0]
    assert "<div>**不是粗体**</div>" in hit.snippet_text


def test_another_folder_is_refused_and_the_index_kept(vault: Path, tmp_path: Path) -> None:
    index_path = tmp_path / "index"
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(vault), "--index", str(index_path)]).exit_code == 0
    other = tmp_path / "minivault"
    write(other / "one.md", "另一个文件夹里的笔记")
    result = runner.invoke(cli, ["index", str(other), "--index", str(index_path)])
    assert result.exit_code == 1
    message = result.output.strip().splitlines()
    assert len(message) == 1 and str(vault.resolve()) in message[0] and "--rebuild" in message[0]
    assert Index(index_path).search("好莱坞 罢工").hits[0].path == SEED  # nothing removed
    result = runner.invoke(cli, ["index", str(other), "--index", str(index_path), "--rebuild"])
    assert result.exit_code == 0 and Index(index_path).search("另一个文件夹").total == 1


def test_an_index_inside_the_vault_is_not_indexed(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(vault)
    monkeypatch.delenv("SEARCHKIT_INDEX")
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "."]).exit_code == 0
    assert runner.invoke(cli, ["dict", "add", "狮门影业"]).exit_code == 0
    result = runner.invoke(cli, ["index"])
    assert result.exit_code == 0, result.output
    paths = [h.path for h in Index("index").search("狮门影业", limit=50)]
    assert paths and not any(p.startswith("index/") for p in paths)
    # nor another searchkit index kept elsewhere in the vault
    assert runner.invoke(cli, ["index", ".", "--index", "notes-index"]).exit_code == 0
    assert not [p for p in Index("notes-index").documents() if p.startswith(("index/", "notes-index/"))]


@pytest.mark.parametrize("links", [{"loop.md": "loop.md"}, {"a.md": "b.md", "b.md": "a.md"}])
def test_a_symlink_loop_is_named_and_the_rest_indexed(tmp_path: Path, links: dict[str, str]) -> None:
    vault = tmp_path / "vault"
    write(vault / "real.md", "真正的笔记内容")
    for name, target in links.items():
        (vault / name).symlink_to(target)
    for follow in (False, True):
        flags = ["--follow-links"] if follow else []
        result = CliRunner().invoke(cli, ["index", str(vault), "--index", str(tmp_path / f"ix{follow}"), *flags])
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        for name in links:
            assert f"skipped {name}: symlink loop" in result.output
        assert Index(tmp_path / f"ix{follow}").search("真正的笔记").total == 1


def test_a_gbk_terminal_query_is_read_and_answered_in_utf8(indexed: Index) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""}
    gbk = "好莱坞 罢工".encode("gbk")
    done = subprocess.run(
        [sys.executable, "-m", "searchkit", "query", gbk, "--index", str(indexed.path)],
        capture_output=True,
        env=env,
    )
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")  # strict
    assert done.returncode == 0 and "GB18030" in err and "好莱坞 罢工" in err
    assert SEED.rsplit("/", 1)[-1][:10] in out or "卡梅隆" in out
    done = subprocess.run(
        [sys.executable, "-m", "searchkit", "query", b"\xff\xfe\xfa", "--json", "--index", str(indexed.path)],
        capture_output=True,
        env=env,
    )
    done.stdout.decode("utf-8")
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr.decode("utf-8")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("date:2024-02-30", ["2024-02-30"]),
        ("date:2024..2023 AI", ["ends before it starts", "2023..2024"]),
        ("date:2024-13", ["2024-13"]),
        ("(" * 40 + "AI", ["nested more than"]),
        ("NOT " * 1000 + "AI", ["nested more than"]),
    ],
)
def test_bad_dates_and_deep_nesting_are_one_line_errors(indexed: Index, query: str, words: list[str]) -> None:
    with pytest.raises(QueryError) as caught:
        indexed.search(query)
    for word in words:
        assert word in str(caught.value)
    result = CliRunner().invoke(cli, ["query", query, "--index", str(indexed.path)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert len(result.output) < 250  # a long query is shown cut down around the problem
    for word in words:
        assert word in result.output


def test_an_unknown_facet_is_named(indexed: Index) -> None:
    result = CliRunner().invoke(cli, ["query", "AI", "--facets", "foo", "--index", str(indexed.path)])
    assert result.exit_code == 2  # a usage error, like --sort foo
    assert "Invalid value for --facets: unknown facet 'foo'; use tag, source, author, year" in result.output
    assert "cannot read the query" not in result.output
    with pytest.raises(QueryError, match=r"^facets: unknown facet 'foo'"):
        indexed.search("AI", facets=["foo"])


def test_limit_0_counts_without_hits(indexed: Index) -> None:
    results = indexed.search("AI", limit=0, facets=["tag"])
    assert results.total > 0 and results.hits == () and results.facets["tag"]
    result = CliRunner().invoke(cli, ["query", "AI", "--limit", "0", "--index", str(indexed.path)])
    assert result.exit_code == 0 and result.output.splitlines()[0] == f"{results.total} documents match"
    assert len(result.output.strip().splitlines()) == 1


def test_no_index_names_the_resolved_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["query", "AI", "--index", "nowhere"])
    assert result.exit_code == 1 and f"no index at {tmp_path.resolve() / 'nowhere'};" in result.output


REBUILD_SCRIPT = """
import sys
from searchkit import Index
Index(sys.argv[1]).update(sys.argv[2], rebuild=sys.argv[3] == "rebuild")
"""


def _marked_vault(folder: Path, count: int) -> list[str]:
    markers = []
    for i in range(count):
        markers.append(f"重建标记{i:03}")
        write(folder / f"note{i:03}.md", f"---\ntitle: 笔记{i}\n---\n{markers[-1]} 的正文。" + "填充的句子。" * 200)
    return markers


def _start(index_path: Path, vault: Path, mode: str, workers: str = "1") -> subprocess.Popen[bytes]:
    import os

    env = {**os.environ, "SEARCHKIT_WORKERS": workers}
    return subprocess.Popen(
        [sys.executable, "-c", REBUILD_SCRIPT, str(index_path), str(vault), mode],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def _interrupt_while_writing(
    process: subprocess.Popen[bytes], index_path: Path, rng: random.Random, signal_number: int
) -> None:
    """Send the signal at a random moment after the run has taken the write lock."""
    deadline = time.monotonic() + 30
    while not (index_path / "writer.pid").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 1.5))
    process.send_signal(signal_number)
    process.wait(timeout=120)


def test_queries_during_a_rebuild_see_the_old_index(tmp_path: Path) -> None:
    vault, index_path = tmp_path / "vault", tmp_path / "index"
    markers = _marked_vault(vault, 120)
    Index(index_path).update(vault)
    rebuild = _start(index_path, vault, "rebuild")
    reader = Index(index_path)
    totals = []
    try:
        while rebuild.poll() is None or not totals:
            totals.append(reader.search(markers[0]).total)
            assert len(reader) == 120
    finally:
        rebuild.wait(timeout=300)
    assert rebuild.returncode == 0 and len(totals) > 1 and set(totals) == {1}


@pytest.mark.parametrize(("signal_number", "seed"), [(signal.SIGINT, 1), (signal.SIGKILL, 2)])
def test_an_interrupted_rebuild_leaves_the_old_index(tmp_path: Path, signal_number: int, seed: int) -> None:
    rng = random.Random(seed)
    vault, index_path = tmp_path / "vault", tmp_path / "index"
    markers = _marked_vault(vault, 300)
    Index(index_path).update(vault, workers=1)
    for trial in range(3):
        process = _start(index_path, vault, "rebuild", workers=rng.choice(["1", "2"]))
        _interrupt_while_writing(process, index_path, rng, signal_number)
        reader = Index(index_path)
        assert len(reader) == 300, (trial, process.returncode)
        assert reader.search(markers[trial]).total == 1
        assert reader.search(markers[-1]).hits[0].path == "note299.md"
    assert Index(index_path).update(vault, rebuild=True).documents == 300
    assert not (index_path / ".rebuild").exists()


@pytest.mark.parametrize(("signal_number", "seed"), [(signal.SIGINT, 3), (signal.SIGKILL, 4)])
def test_an_interrupted_first_build_never_answers_no_documents_match(
    tmp_path: Path, signal_number: int, seed: int
) -> None:
    rng = random.Random(seed)
    vault = tmp_path / "vault"
    markers = _marked_vault(vault, 300)
    for trial in range(3):
        index_path = tmp_path / f"index{trial}"
        process = _start(index_path, vault, "first", workers=rng.choice(["1", "2"]))
        _interrupt_while_writing(process, index_path, rng, signal_number)
        result = CliRunner().invoke(cli, ["query", markers[0], "--index", str(index_path)])
        if result.exit_code == 0:  # it was complete before the signal came
            assert "1 document matches" in result.output and len(Index(index_path)) == 300
        else:
            assert result.exit_code == 1 and "no index at" in result.output, result.output


def test_related_and_explain_take_the_path_a_user_has(
    vault: Path, indexed: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [h.path for h in indexed.related(SEED)]
    folder, name = SEED.rsplit("/", 1)
    monkeypatch.chdir(vault / folder)
    for given in (str(vault / SEED), name, f"./{name}", f"../{folder.rsplit('/', 1)[-1]}/{name}"):
        assert [h.path for h in indexed.related(given)] == expected, given
        assert indexed.explain("好莱坞 罢工", given).rank == 1
        result = CliRunner().invoke(cli, ["related", given, "--index", str(indexed.path)])
        assert result.exit_code == 0 and expected[0] in result.output
        result = CliRunner().invoke(cli, ["explain", "好莱坞", "罢工", "--doc", given, "--index", str(indexed.path)])
        assert result.exit_code == 0 and "rank 1 of" in result.output
    monkeypatch.chdir(vault.parent)
    result = CliRunner().invoke(cli, ["related", "elsewhere.md", "--index", str(indexed.path)])
    assert result.exit_code == 1 and "not in the index" in result.output


@pytest.mark.parametrize("columns", [40, 60, 100])
def test_the_progress_bar_fits_the_terminal(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    import io

    from searchkit import cli as cli_module

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    import itertools

    import click._termui_impl

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("COLUMNS", str(columns))
    clock = itertools.count(1_000_000, 0.5)  # time passes, so the bar shows its ETA too
    monkeypatch.setattr(click._termui_impl.time, "time", lambda: next(clock))
    with cli_module._progress_bar() as progress:
        assert progress is not None
        for done in range(0, 3277, 100):
            progress(done, 3276)
        progress(3276, 3276)
    import re

    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # cursor codes take no room
    lines = [line for line in shown.replace("\r", "\n").split("\n") if line.strip()]
    assert len(lines) > 10 and max(len(line) for line in lines) <= columns


def test_a_skipped_file_is_named_once_until_it_changes(vault: Path, tmp_path: Path) -> None:
    bad = vault / "bad.md"
    bad.write_bytes(b"\x00binary\x00" * 10)
    runner = CliRunner()
    arguments = ["index", str(vault), "--index", str(tmp_path / "ix")]
    first = runner.invoke(cli, arguments)
    assert "skipped bad.md: binary file" in first.output
    second = runner.invoke(cli, arguments)
    assert "skipped bad.md" not in second.output
    assert "1 file skipped as in the last run, unchanged (--verbose names them)" in second.output
    assert "skipped bad.md" in runner.invoke(cli, [*arguments, "--verbose"]).output
    bad.write_bytes(b"\x00changed\x00" * 10)
    assert "skipped bad.md: binary file" in runner.invoke(cli, arguments).output
    stats = Index(tmp_path / "ix").update(vault)
    assert [(s.path, s.repeated) for s in stats.skipped] == [("bad.md", True)]


def test_a_file_name_that_is_not_utf8_is_named_and_the_rest_indexed(tmp_path: Path) -> None:
    import os

    vault = tmp_path / "vault"
    write(vault / "good.md", "好的笔记")
    with open(os.path.join(os.fsencode(vault), "名字".encode("gbk") + b".md"), "wb") as handle:
        handle.write("名字不是UTF-8的笔记".encode())
    result = CliRunner().invoke(cli, ["index", str(vault), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "the file name is not UTF-8 (as GB18030: 名字.md); rename the file" in result.output
    result.stdout_bytes.decode("utf-8")
    assert Index(tmp_path / "ix").search("好的笔记").total == 1
