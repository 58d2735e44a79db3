"""Bad queries, bad files, crashes and concurrency (#6): nothing lost, no traceback."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchkit import Index, QueryError, SearchResults
from searchkit.cli import cli

from .conftest import write

NASTY_QUERIES = [
    '"', "((", "))", "(好莱坞", '好莱坞"', "OR", "AND", "NOT", "-", "--", "- -", "OR OR", "a OR",
    "*", "**", "?", "title:", "tag:AI", "foo:bar", "\x00", "好莱坞\x00罢工", "\x1b[31m红\x1b[0m",
    "😀", "😀 好莱坞", "，。！？", "   ", "好" * 5000, "a" * 5000, "罢工 " * 1000, "\udcff\udcfe",
    "寶可夢\t罢工\n", "𠀀𠀁", "(((((((((好)))))))))", '"" OR ""', "-好莱坞 -罢工",
]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("robust")
    write(root / "vault" / "a.md", "---\ntitle: 好莱坞\n---\n好莱坞编剧罢工。GPT-4o 与 C++。")
    write(root / "vault" / "b.md", "寶可夢和宝可梦。<script>alert(1)</script>")
    ix = Index(root / "index")
    ix.update(root / "vault")
    return ix


def _search_or_explain(ix: Index, query: str) -> None:
    try:
        results = ix.search(query, limit=5)
    except QueryError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(results, SearchResults)
    assert results.total >= len(results.hits)


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_nasty_queries_give_results_or_one_line_errors(small_index: Index, query: str) -> None:
    _search_or_explain(small_index, query)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_random_queries_never_raise_anything_else(small_index: Index, query: str) -> None:
    _search_or_explain(small_index, query)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('好莱坞罢工 "()-ORNTAD寶aC+#\x00😀，')), max_size=30))
def test_random_queries_on_the_cli_exit_0_or_1(small_index: Index, query: str) -> None:
    result = CliRunner().invoke(cli, ["query", query, "--index", str(small_index.path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_messy_vault_indexes_every_good_file(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    good = {
        "empty.md": "",
        "bom.md": "\ufeff---\ntitle: 标记甲\n---\n正文甲",
        "crlf.md": "---\r\ntitle: 标记乙\r\n---\r\n正文乙\r\n",
        "broken.md": '---\ntitle: "unclosed\n---\n标记丙的正文',
        "frontmatter-only.md": "---\ntitle: 标记丁\n---\n",
        "名字 with spaces 😀.md": "标记戊",
        "a/b/c/d/e/f/g/h/i/j/deep.md": "标记己",
        "long-line.md": "标记庚" + "长" * 200_000,
    }
    for name, text in good.items():
        write(vault / name, text)
    write(vault / "gbk.md", "标记辛的中文", encoding="gb18030")
    (vault / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (vault / "loop").symlink_to(vault, target_is_directory=True)
    outside = write(tmp_path / "outside.md", "外部标记")
    (vault / "link-out.md").symlink_to(outside)
    ix = Index(tmp_path / "index")
    stats = ix.update(vault)
    reasons = {s.path: s.reason for s in stats.skipped}
    assert set(reasons) == {"binary.md", "link-out.md"}
    assert stats.documents == len(good) + 1
    for marker in ["标记甲", "标记乙", "标记丙", "标记丁", "标记戊", "标记己", "标记庚", "标记辛"]:
        assert ix.search(marker).total >= 1, marker
    assert ix.search('"外部标记"').total == 0  # the file outside the vault is not indexed
    followed = Index(tmp_path / "followed")
    stats = followed.update(vault, follow_links=True)  # the loop is visited once
    assert followed.search("外部标记").total == 1
    assert followed.search("标记己").total == 1


def test_file_vanishing_during_the_run_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from searchkit import shard, sync

    vault = tmp_path / "vault"
    write(vault / "stays.md", "留下的标记")
    goner = write(vault / "goes.md", "消失的标记")
    real = sync.read_document
    calls = []

    def read_then_delete(path, root):  # type: ignore[no-untyped-def]
        calls.append(path.name)
        loaded = real(path, root)
        if path.name == "goes.md" and goner.exists():
            goner.unlink()  # gone before the second pass reads it again
        return loaded

    monkeypatch.setattr(sync, "read_document", read_then_delete)
    monkeypatch.setattr(shard, "read_document", read_then_delete)
    ix = Index(tmp_path / "index")
    stats = ix.update(vault)
    assert [s.path for s in stats.skipped] == ["goes.md"] and "cannot read" in stats.skipped[0].reason
    assert ix.search("留下的标记").total == 1 and stats.documents == 1
    assert Index(tmp_path / "index").update(vault).documents == 1


def test_huge_file_is_indexed_with_bounded_memory(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    paragraph = "这是一个很长的文件，里面有很多重复的句子。" * 50 + "\n"
    write(vault / "huge.md", "开头标记\n" + paragraph * 1000 + "结尾标记")
    assert (vault / "huge.md").stat().st_size > 3_000_000
    ix = Index(tmp_path / "index")
    ix.update(vault)
    assert ix.search("开头标记").total == 1


CRASH_SCRIPT = """
import sys
from searchkit import Index
Index(sys.argv[1]).update(sys.argv[2])
"""


def _vault_of(n: int, root: Path, generation: int) -> set[str]:
    markers = set()
    for i in range(n):
        marker = f"mk{generation}x{i}"
        write(root / f"doc{i:03}.md", f"---\ntitle: 文档{i}\n---\n{marker} 的正文，好莱坞罢工。" * 20)
        markers.add(marker)
    return markers


def test_kill_during_index_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """Kill -9 an index run at random moments; every run after must open, and a
    clean sync must index exactly the files on disk."""
    _kill_trials(tmp_path, int(os.environ.get("SEARCHKIT_KILL_TRIALS", "4")), seed=6)


@pytest.mark.slow
def test_kill_during_index_many_times(tmp_path: Path) -> None:
    _kill_trials(tmp_path, 30, seed=7)


def _kill_trials(tmp_path: Path, trials: int, seed: int) -> None:
    rng = random.Random(seed)
    vault, index_path = tmp_path / "vault", tmp_path / "index"
    for generation in range(trials):
        _vault_of(60, vault, generation)
        # every other run indexes in two worker processes, which outlive the kill
        workers = {**os.environ, "SEARCHKIT_WORKERS": str(1 + generation % 2)}
        process = subprocess.Popen(
            [sys.executable, "-c", CRASH_SCRIPT, str(index_path), str(vault)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=workers,
        )
        time.sleep(rng.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if Index(index_path).exists:
            Index(index_path).search("好莱坞")  # opens and answers
    markers = _vault_of(60, vault, trials)
    ix = Index(index_path)
    ix.update(vault)
    assert sorted(ix.documents()) == sorted(f"doc{i:03}.md" for i in range(60))
    for marker in markers:
        assert [h.path for h in ix.search(marker)] == [f"doc{marker.split('x')[1].zfill(3)}.md"]


def test_second_writer_names_the_first(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    _vault_of(5, vault, 0)
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(vault), "--index", str(tmp_path / "index")]).exit_code == 0
    from whoosh import index as whoosh_index

    holder = whoosh_index.open_dir(str(tmp_path / "index")).writer()
    (tmp_path / "index" / "writer.pid").write_text("4242")
    try:
        result = runner.invoke(cli, ["index", str(vault), "--index", str(tmp_path / "index")])
        assert result.exit_code == 1
        assert "another process (pid 4242)" in result.stderr
        assert "Traceback" not in result.output
        # queries still work while the writer holds the lock
        assert runner.invoke(cli, ["query", "好莱坞", "--index", str(tmp_path / "index")]).exit_code == 0
    finally:
        holder.cancel()


def test_two_index_runs_at_once(tmp_path: Path) -> None:
    vault, index_path = tmp_path / "vault", tmp_path / "index"
    _vault_of(80, vault, 0)
    command = [sys.executable, "-m", "searchkit", "index", str(vault), "--index", str(index_path)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(run.returncode, *run.communicate(timeout=300)) for run in runs]
    outcomes = [(run.returncode, out, err) for run, (_, out, err) in zip(runs, outcomes, strict=True)]
    for code, _, stderr in outcomes:
        assert code in (0, 1) and "Traceback" not in stderr
        if code == 1:
            assert "being updated by another process" in stderr and len(stderr.strip().splitlines()) == 1
    assert any(code == 0 for code, _, _ in outcomes)
    assert sorted(Index(index_path).documents()) == sorted(f"doc{i:03}.md" for i in range(80))


def test_queries_during_an_index_run_see_a_consistent_index(tmp_path: Path) -> None:
    vault, index_path = tmp_path / "vault", tmp_path / "index"
    first = _vault_of(40, vault, 0)
    Index(index_path).update(vault)
    second = _vault_of(40, vault, 1)  # every file changes: old markers go, new ones come
    writer = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(index_path), str(vault)])
    reader = Index(index_path)
    old, new = sorted(first)[0], sorted(second)[0]  # the two versions of the same file
    seen = 0
    try:
        while writer.poll() is None or seen == 0:
            # one search sees one commit: the old version of the file or the new one
            assert reader.search(f"{old} OR {new}").total == 1
            assert len(reader) == 40
            seen += 1
    finally:
        writer.wait(timeout=300)
    assert writer.returncode == 0
    assert reader.search(new).total == 1 and reader.search(old).total == 0


NESTINGS = st.sampled_from(["(", "NOT ", "-", "-(", "( NOT "])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NESTINGS, st.integers(min_value=0, max_value=2000), st.text(max_size=20), st.booleans())
def test_deeply_nested_queries_give_one_line_errors(
    small_index: Index, opening: str, depth: int, inner: str, closed: bool
) -> None:
    query = opening * depth + (inner or "好莱坞") + (")" * (depth * opening.count("(")) if closed else "")
    _search_or_explain(small_index, query)
    result = CliRunner().invoke(cli, ["query", "--index", str(small_index.path), "--", query])
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=24))
def test_query_bytes_that_are_not_utf8_give_utf8_output(small_index: Index, raw: bytes) -> None:
    query = raw.decode("utf-8", "surrogateescape")  # what Python makes of such an argument
    _search_or_explain(small_index, query)
    for extra in ([], ["--json"]):
        result = CliRunner().invoke(cli, ["query", query, "--index", str(small_index.path), *extra])
        assert result.exit_code in (0, 1, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        result.stdout_bytes.decode("utf-8")  # strict: always valid UTF-8
        result.stderr_bytes.decode("utf-8")
