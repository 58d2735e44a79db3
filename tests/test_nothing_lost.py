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
