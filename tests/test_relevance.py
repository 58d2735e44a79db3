"""Finding what people mean (issue #13)."""

from __future__ import annotations

from pathlib import Path

from searchkit import Index

from .conftest import write


def test_authors_and_sources_are_searchable_as_words(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    write(vault / "by.md", "---\ntitle: 写好提示词的方法\n作者: 宝玉\n来源: 宝玉的博客\n---\n关于提示词的几条经验。")
    write(vault / "about.md", "---\ntitle: 读后感\n作者: 某人\n---\n宝玉的文章写得很好。")
    write(vault / "other.md", "---\ntitle: 提示词合集\n作者: 某人\n---\n又一份提示词清单。")
    ix = Index(tmp_path / "index")
    ix.update(vault)
    assert {h.path for h in ix.search("宝玉")} == {"by.md", "about.md"}
    assert [h.path for h in ix.search("宝玉 提示词")] == ["by.md"]
    assert [h.path for h in ix.search("宝玉的博客")][0] == "by.md"
    fields = {c.field for c in ix.explain("宝玉 提示词", "by.md").contributions}
    assert "byline" in fields


def test_a_quoted_phrase_is_marked_as_one(indexed: Index) -> None:
    hit = indexed.search('"好莱坞大罢工"').hits[0]
    assert "<mark>好莱坞大罢工</mark>" in hit.snippet
    hit = indexed.search('"Stability AI"').hits[0]
    assert "<mark>Stability AI</mark>" in hit.snippet


def test_a_compound_finds_the_longer_compounds_it_begins(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    for name, text in {
        "plain.md": "GPT-5 发布了。",
        "point.md": "GPT-5.2 更快。",
        "codex.md": "GPT-5-Codex 写代码。",
        "mini.md": "用 gpt-5.1-mini 省钱。",
        "fifty.md": "GPT-50 并不存在。",
        "four.md": "GPT-4 5月发布。",
    }.items():
        write(vault / name, text)
    ix = Index(tmp_path / "index")
    ix.update(vault)
    assert {h.path for h in ix.search("GPT-5")} == {"plain.md", "point.md", "codex.md", "mini.md"}
    assert {h.path for h in ix.search("gpt-5.1")} == {"mini.md"}


def test_joined_and_spaced_names_are_the_same(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    write(vault / "spaced.md", "用 Claude Code 写代码。")
    write(vault / "joined.md", "用 Claude-Code 写代码。")
    write(vault / "snake.md", "配置 claude_code 的参数。")
    write(vault / "apart.md", "Claude 的 code 很多。")
    ix = Index(tmp_path / "index")
    ix.update(vault)
    expected = {"spaced.md", "joined.md", "snake.md"}
    assert {h.path for h in ix.search("Claude-Code")} == expected
    assert {h.path for h in ix.search("claude_code")} >= expected


def test_explain_shows_the_longer_compound_that_matched(tmp_path: Path) -> None:
    write(tmp_path / "vault" / "point.md", "GPT-5.2 更快。")
    ix = Index(tmp_path / "index")
    ix.update(tmp_path / "vault")
    explanation = ix.explain("GPT-5", "point.md")
    assert explanation.rank == 1 and not explanation.missing
    assert ("gpt-5.2", "for gpt-5") in {(c.term, c.note) for c in explanation.contributions}
