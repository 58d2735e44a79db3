from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.cli import cli

from .conftest import REPO, SEED, write


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, list(args), env=env)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_index_then_query(vault: Path) -> None:
    indexed = run("index", str(vault))
    assert indexed.exit_code == 0
    assert "8 documents (8 added, 0 changed, 0 removed, 0 skipped, 0 unchanged)" in indexed.stdout

    found = run("query", "好莱坞 罢工")
    assert found.exit_code == 0
    assert found.stdout.startswith("3 documents match")
    assert " 1. 詹姆斯 · 卡梅隆官宣加入Stability AI" in found.stdout
    assert SEED in found.stdout and "2024-09-25" in found.stdout and "#AI" in found.stdout
    assert "<mark>" not in found.stdout  # plain text when not on a terminal


def test_query_words_may_be_separate_arguments(vault: Path) -> None:
    run("index", str(vault))
    assert run("query", "好莱坞", "罢工").stdout == run("query", "好莱坞 罢工").stdout


def test_json_output(vault: Path) -> None:
    run("index", str(vault))
    result = run("query", "好莱坞罢工", "--json", "--limit", "2")
    data = json.loads(result.stdout)
    assert set(data) == {"query", "total", "match", "corrected", "topic", "offset", "hits"}
    assert data["query"] == "好莱坞罢工" and data["total"] == 3 and data["match"] == "all" and data["corrected"] == {}
    assert len(data["hits"]) == 2
    hit = data["hits"][0]
    assert set(hit) == {"path", "title", "score", "date", "tags", "snippet"}
    assert hit["path"] == SEED and hit["tags"] == ["数字生命卡兹克", "AI", "llm"]
    assert "<mark>好莱坞</mark>" in hit["snippet"]


def test_json_snippet_escapes_document_html(vault: Path) -> None:
    write(vault / "x.md", "罕见词<script>alert(1)</script><img src=x onerror=alert(1)>在这里。")
    run("index", str(vault))
    snippet = json.loads(run("query", "罕见词", "--json").stdout)["hits"][0]["snippet"]
    assert "<script>" not in snippet and "<img" not in snippet


def test_incremental_index_reports_changes(vault: Path) -> None:
    run("index", str(vault))
    write(vault / "n.md", "新文件")
    (vault / "02-资源" / "通用开发工具" / "spdlog：C++ 高性能日志库.md").unlink()
    result = run("index", str(vault))
    assert "(1 added, 0 changed, 1 removed, 0 skipped, 7 unchanged" in result.stdout
    again = run("index")  # the folder on record
    assert "(0 added, 0 changed, 0 removed, 0 skipped, 8 unchanged)" in again.stdout


def test_index_option_beats_environment(vault: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-index"
    run("index", str(vault), "--index", str(other))
    assert (other / "searchkit.json").exists()
    assert run("query", "罢工", "--index", str(other)).exit_code == 0
    assert run("query", "罢工").exit_code == 1  # $SEARCHKIT_INDEX has nothing yet


def test_default_index_is_dot_index(vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEARCHKIT_INDEX")
    monkeypatch.chdir(tmp_path)
    run("index", str(vault))
    assert (tmp_path / "index" / "searchkit.json").exists()


def test_query_without_index_is_one_line_exit_1(tmp_path: Path) -> None:
    result = run("query", "好莱坞", "--index", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "searchkit index" in lines[0] and str(tmp_path / "none") in lines[0]


def test_bad_query_is_one_line_exit_1(vault: Path) -> None:
    run("index", str(vault))
    result = run("query", '"好莱坞')
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "unclosed quote" in result.stderr


def test_bad_files_are_named_on_stderr_and_the_run_goes_on(vault: Path) -> None:
    (vault / "bad.md").write_bytes(b"\x00binary")
    write(vault / "broken.md", '---\ntitle: "oops\n---\n断裂的前言')
    result = run("index", str(vault))
    assert result.exit_code == 0
    assert "skipped bad.md: binary" in result.stderr
    assert "warning broken.md: broken frontmatter" in result.stderr
    assert run("query", "断裂").stdout.startswith("1 document matches")


def test_usage_errors_exit_2(vault: Path) -> None:
    assert run("query").exit_code == 2
    assert run("query", "x", "--limit", "-1").exit_code == 2
    assert run("index", str(vault / "missing")).exit_code in (1, 2)


def test_index_of_a_missing_folder_is_exit_1(tmp_path: Path) -> None:
    result = run("index", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "not a folder" in result.stderr


def test_zero_hits_exit_0(vault: Path) -> None:
    run("index", str(vault))
    result = run("query", "xyzzy plugh")
    assert result.exit_code == 0 and "no documents match" in result.stdout


def test_help_names_every_command() -> None:
    result = run("--help")
    assert "index" in result.stdout and "query" in result.stdout
    for command in ("index", "query", "explain"):
        assert run(command, "--help").exit_code == 0


def test_help_does_not_load_the_segmenter() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom searchkit.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'rjieba' not in sys.modules and 'jieba' not in sys.modules, 'segmenter loaded'\n"
        "assert 'whoosh.index' not in sys.modules, 'whoosh loaded'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_explain_command(vault: Path) -> None:
    run("index", str(vault))
    result = run("explain", "好莱坞", "罢工", "--doc", SEED)
    assert result.exit_code == 0
    assert "tokens: 好莱坞 · 罢工" in result.stdout
    assert "rank 1 of 3" in result.stdout and "title    好莱坞" in result.stdout
    data = json.loads(run("explain", "好莱坞", "--doc", SEED, "--json").stdout)
    assert data["rank"] >= 1 and data["contributions"][0]["score"] > 0
    missing = run("explain", "好莱坞", "--doc", "nope.md")
    assert missing.exit_code == 1 and "not in the index" in missing.stderr


def test_excluded_word_first_is_not_taken_for_an_option(vault: Path) -> None:
    run("index", str(vault))
    result = run("query", "-卡梅隆", "好莱坞", "罢工", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"] == 2
