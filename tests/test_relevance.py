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
