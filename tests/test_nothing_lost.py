"""Nothing lost when the user slips (issue #12): text in any section, code kept
verbatim, rebuilds that keep the old index until the new one is in, another folder,
an index inside the vault, loops, odd bytes, bad dates."""

from __future__ import annotations

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
        result = CliRunner().invoke(
            cli, ["index", str(vault), "--index", str(tmp_path / f"ix{follow}"), *(["--follow-links"] if follow else [])]
        )
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        for name in links:
            assert f"skipped {name}: symlink loop" in result.output
        assert Index(tmp_path / f"ix{follow}").search("真正的笔记").total == 1
