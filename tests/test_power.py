"""Filters, sorting, paging, facets and related documents (#7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit import Index, QueryError
from searchkit.cli import cli

from .conftest import SEED

KAZIKE = {
    SEED,
    "01-博客/数字生命卡兹克/我们再也回不去，没有AI的世界了 _ ChatGPT两周年。.md",
    "01-博客/数字生命卡兹克/一觉醒来，地标建筑们都被AI变成毛绒玩具了。.md",
    "01-博客/数字生命卡兹克/明天，是GPT-4o的葬礼。.md",
}


def paths(results) -> set[str]:  # type: ignore[no-untyped-def]
    return {hit.path for hit in results}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag:数字生命卡兹克", KAZIKE),
        ("tag:00-元语/数字生命卡兹克", KAZIKE),
        ("TAG:数字生命卡兹克", KAZIKE),
        ("tag:ai 好莱坞 罢工", {SEED, "01-博客/数字生命卡兹克/我们再也回不去，没有AI的世界了 _ ChatGPT两周年。.md",
                            "01-博客/宝玉/人工智能普及后哪些职业的边际价值反而会上升？.md"}),
        (
            "author:数字生命卡兹克 罢工",
            {SEED, "01-博客/数字生命卡兹克/我们再也回不去，没有AI的世界了 _ ChatGPT两周年。.md"},
        ),
        ("source:微信公众号 -tag:llm", set()),
        ("path:00-元语/", {"00-元语/Claude Code.md"}),
        ("path:01-博客/宝玉", {"01-博客/宝玉/人工智能普及后哪些职业的边际价值反而会上升？.md"}),
        ("title:葬礼", {"01-博客/数字生命卡兹克/明天，是GPT-4o的葬礼。.md"}),
        ('title:"Claude Code"', {"00-元语/Claude Code.md"}),
        ("date:2024", {SEED, "01-博客/数字生命卡兹克/我们再也回不去，没有AI的世界了 _ ChatGPT两周年。.md"}),
        ("date:2024-09", {SEED}),
        ("date:2024-09-25", {SEED}),
        ("date:2024-10..2025-02", {"01-博客/数字生命卡兹克/我们再也回不去，没有AI的世界了 _ ChatGPT两周年。.md",
                                   "01-博客/宝玉/人工智能普及后哪些职业的边际价值反而会上升？.md",
                                   "01-博客/数字生命卡兹克/一觉醒来，地标建筑们都被AI变成毛绒玩具了。.md"}),
        ("date:>=2026-01-01", {"01-博客/数字生命卡兹克/明天，是GPT-4o的葬礼。.md"}),
        ("date:<2024-12-01 tag:AI", {SEED}),
    ],
)
def test_filters(indexed: Index, query: str, expected: set[str]) -> None:
    assert paths(indexed.search(query, limit=50)) == expected


@pytest.mark.parametrize(
    ("query", "hint"),
    [("foo:bar", "unknown field 'foo'"), ("date:2024-13", "invalid date"), ("date:soon", "invalid date"),
     ("tag:", "needs a value"), ("-tag:AI", "only excluded")],
)
def test_bad_filters_explain_themselves(indexed: Index, query: str, hint: str) -> None:
    with pytest.raises(QueryError) as info:
        indexed.search(query)
    assert hint in str(info.value)


def test_urls_are_words_not_fields(indexed: Index) -> None:
    indexed.search("https://mp.weixin.qq.com")  # no error


def test_sort_orders_and_undated_last(indexed: Index) -> None:
    newest = [h.date for h in indexed.search("的", sort="-date", limit=50)]
    oldest = [h.date for h in indexed.search("的", sort="date", limit=50)]
    dated_new = [d for d in newest if d]
    assert dated_new == sorted(dated_new, reverse=True) and newest[-1] is None
    assert [d for d in oldest if d] == sorted(d for d in oldest if d) and oldest[-1] is None
    titles = [h.title.casefold() for h in indexed.search("AI", sort="title", limit=50)]
    assert titles == sorted(titles)
    assert [h.date for h in indexed.search("tag:AI", limit=50)] == sorted(
        (h.date for h in indexed.search("tag:AI", limit=50)), reverse=True
    )  # filters alone: newest first


def test_paging(indexed: Index) -> None:
    everything = [h.path for h in indexed.search("AI", limit=50)]
    page = indexed.search("AI", limit=2, offset=2)
    assert [h.path for h in page] == everything[2:4]
    assert page.total == len(everything) and page.offset == 2
    past = indexed.search("AI", limit=5, offset=100)
    assert past.hits == () and past.total == len(everything)


def test_facets_count_all_matches_not_just_the_page(indexed: Index) -> None:
    results = indexed.search("tag:AI", limit=1, facets=["tag", "year", "source", "author"])
    assert len(results.hits) == 1
    tags = dict(results.facets["tag"])
    assert tags["AI"] == results.total == 5
    assert tags["数字生命卡兹克"] == 4
    assert sum(count for _, count in results.facets["year"]) == 5
    assert dict(results.facets["source"])["微信公众号"] == 4
    with pytest.raises(QueryError):
        indexed.search("AI", facets=["colour"])


def test_related_on_real_vault_files(indexed: Index, vault: Path) -> None:
    related = indexed.related(SEED, limit=3)
    assert SEED not in paths(related)
    assert related.hits[0].path == "01-博客/数字生命卡兹克/我们再也回不去，没有AI的世界了 _ ChatGPT两周年。.md"
    assert not related.hits[0].snippet.startswith("一句话总结")


def test_cli_paging_sort_facets_fields_and_related(vault: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(vault)]).exit_code == 0
    result = runner.invoke(
        cli, ["query", "tag:AI", "--limit", "2", "--offset", "1", "--sort", "-date",
              "--facets", "tag,year", "--fields", "url,author", "--json"],
    )
    data = json.loads(result.stdout)
    assert data["offset"] == 1 and data["total"] == 5 and len(data["hits"]) == 2
    assert set(data["hits"][0]) == {"path", "title", "score", "date", "tags", "snippet", "url", "author"}
    assert ["AI", 5] in data["facets"]["tag"]
    text = runner.invoke(cli, ["query", "tag:AI", "--facets", "year"]).stdout
    assert "year: 2024 2  2025 2  2026 1" in text
    assert runner.invoke(cli, ["query", "x", "--fields", "colour"]).exit_code == 2
    related = runner.invoke(cli, ["related", SEED, "--json", "--limit", "2"])
    assert related.exit_code == 0 and len(json.loads(related.stdout)["hits"]) == 2
    missing = runner.invoke(cli, ["related", "nope.md"])
    assert missing.exit_code == 1 and "not in the index" in missing.stderr
