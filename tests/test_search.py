from __future__ import annotations

import re
from pathlib import Path

import pytest

from searchkit import Index, QueryError
from searchkit.query import parse_query

from .conftest import SEED, write

HOLLYWOOD = {
    SEED,
    "01-博客/数字生命卡兹克/我们再也回不去，没有AI的世界了 _ ChatGPT两周年。.md",
    "01-博客/宝玉/人工智能普及后哪些职业的边际价值反而会上升？.md",
}


def paths(results) -> set[str]:  # type: ignore[no-untyped-def]
    return {hit.path for hit in results}


def test_words_must_all_match_and_the_seed_ranks_first(indexed: Index) -> None:
    results = indexed.search("好莱坞 罢工")
    assert paths(results) == HOLLYWOOD
    assert results.total == 3 and results.match == "all"
    assert results.hits[0].path == SEED
    assert "<mark>好莱坞</mark>" in results.hits[0].snippet


def test_unsegmented_query_finds_the_same(indexed: Index) -> None:
    assert paths(indexed.search("好莱坞罢工")) == paths(indexed.search("好莱坞 罢工"))


def test_quoted_phrase_needs_adjacent_words(indexed: Index) -> None:
    assert paths(indexed.search('"好莱坞编剧罢工"')) == {
        "01-博客/宝玉/人工智能普及后哪些职业的边际价值反而会上升？.md"
    }
    assert indexed.search('"罢工 好莱坞编剧"').total == 0
    assert SEED in paths(indexed.search("“詹姆斯·卡梅隆”"))  # Chinese quotes work too


def test_phrase_with_english_words(indexed: Index) -> None:
    assert SEED in paths(indexed.search('"Stability AI"'))
    assert SEED not in paths(indexed.search('"AI Stability"'))


def test_or_and_not(indexed: Index) -> None:
    either = paths(indexed.search("spdlog OR 毛绒玩具"))
    assert either == {
        "02-资源/通用开发工具/spdlog：C++ 高性能日志库.md",
        "01-博客/数字生命卡兹克/一觉醒来，地标建筑们都被AI变成毛绒玩具了。.md",
    }
    assert paths(indexed.search("好莱坞 罢工 -卡梅隆")) == HOLLYWOOD - {SEED}
    assert paths(indexed.search("好莱坞 罢工 NOT 卡梅隆")) == HOLLYWOOD - {SEED}
    assert paths(indexed.search("(spdlog OR 毛绒玩具) -日志")) == {
        "01-博客/数字生命卡兹克/一觉醒来，地标建筑们都被AI变成毛绒玩具了。.md"
    }


def test_mixed_script_tokens_are_searchable(indexed: Index) -> None:
    assert "02-资源/通用开发工具/spdlog：C++ 高性能日志库.md" in paths(indexed.search("C++"))
    assert "01-博客/数字生命卡兹克/明天，是GPT-4o的葬礼。.md" in paths(indexed.search("GPT-4o"))
    assert "01-博客/数字生命卡兹克/明天，是GPT-4o的葬礼。.md" in paths(indexed.search("gpt"))
    assert "00-元语/Claude Code.md" in paths(indexed.search("claude code"))


def test_full_width_query_matches_ascii_text(indexed: Index) -> None:
    assert paths(indexed.search("ＧＰＴ－４ｏ")) == paths(indexed.search("GPT-4o"))


def test_single_letter_and_digit_tokens(vault: Path, isolated_index: Path) -> None:
    write(vault / "r.md", "用R语言做统计，GPT-5 发布了，版本 5。")
    ix = Index(isolated_index)
    ix.update(vault)
    assert "r.md" in paths(ix.search("R"))
    assert "r.md" in paths(ix.search("GPT-5"))
    hit = next(h for h in ix.search("R 语言") if h.path == "r.md")
    assert "用<mark>R语言</mark>" in hit.snippet  # neighbouring matches form one mark


def test_traditional_query_finds_simplified_text(vault: Path, isolated_index: Path) -> None:
    write(vault / "pk.md", "这是一篇关于宝可梦的笔记。")
    write(vault / "pk-tw.md", "這是一篇關於寶可夢的筆記。")
    ix = Index(isolated_index)
    ix.update(vault)
    assert paths(ix.search("寶可夢")) == paths(ix.search("宝可梦")) >= {"pk.md", "pk-tw.md"}
    hit = next(h for h in ix.search("宝可梦") if h.path == "pk-tw.md")
    assert "<mark>寶可夢</mark>" in hit.snippet


def test_long_question_falls_back_to_partial_matches(indexed: Index) -> None:
    results = indexed.search("好莱坞的编剧们为什么要发起罢工抗议人工智能呢？")
    assert results.match == "partial"
    assert results.total > 0
    assert results.hits[0].path in HOLLYWOOD


def test_no_match_is_an_empty_result_not_an_error(indexed: Index) -> None:
    results = indexed.search("xyzzy plugh")
    assert results.total == 0 and list(results) == []


def test_partial_match_needs_more_than_a_word_in_most_documents(indexed: Index) -> None:
    assert indexed.search("的 xyzzy").total == 0
    partial = indexed.search("的 卡梅隆 xyzzy")
    assert partial.match == "partial" and {h.path for h in partial} == {SEED}


def test_limit(indexed: Index) -> None:
    results = indexed.search("AI", limit=2)
    assert len(results) == 2 and results.total > 2


def test_title_matches_rank_above_body_matches(vault: Path, isolated_index: Path) -> None:
    write(vault / "t.md", "---\ntitle: 量子计算入门\n---\n一些介绍文字。")
    write(vault / "b.md", "---\ntitle: 杂记\n---\n今天读了一点量子计算的东西，还有很多别的内容。")
    ix = Index(isolated_index)
    ix.update(vault)
    assert [h.path for h in ix.search("量子计算")][:2] == ["t.md", "b.md"]


@pytest.mark.parametrize(
    ("query", "hint"),
    [
        ('"好莱坞', "unclosed quote"),
        ("(好莱坞 罢工", "unclosed parenthesis"),
        ("OR 好莱坞", "OR needs a word before it"),
        ("好莱坞 OR", "OR needs a word after it"),
        ("-好莱坞", "only excluded words"),
        ("NOT", "NOT needs a word after it"),
        ("   ", "empty"),
        ("，。！", "nothing searchable"),
        ("()", "nothing searchable"),
    ],
)
def test_malformed_queries_explain_themselves(indexed: Index, query: str, hint: str) -> None:
    with pytest.raises(QueryError) as info:
        indexed.search(query)
    assert hint in info.value.hint
    assert "\n" not in str(info.value)


def test_pasted_text_with_lone_parentheses_searches(indexed: Index) -> None:
    assert indexed.search("好莱坞) 罢工").total == indexed.search("好莱坞 罢工").total == 3
    assert indexed.search("步骤 1) 好莱坞 2) 罢工 print()").total >= 1  # partial: 步骤 and print are elsewhere


def test_parser_tree() -> None:
    from searchkit.query import All, Any_, Not, Phrase, Word

    assert parse_query('a "b c" OR -d') == Any_(
        (All((Word("a"), Phrase("b c"))), Not(Word("d")))
    )
    assert parse_query("GPT-4o") == Word("GPT-4o")


def test_part_of_a_word_finds_the_document(indexed: Index) -> None:
    """Substring recall (#4): 莱坞 is inside the word 好莱坞."""
    assert paths(indexed.search("莱坞")) >= HOLLYWOOD
    hit = next(h for h in indexed.search("莱坞") if h.path == SEED)
    assert "好<mark>莱坞</mark>" in hit.snippet


def test_substring_across_word_boundaries(vault: Path, isolated_index: Path) -> None:
    write(vault / "s.md", "编剧们发起了一场漫长的罢工潮，持续到年底。")
    ix = Index(isolated_index)
    ix.update(vault)
    for query in ("剧们发", "长的罢", "罢工潮", "工潮"):
        assert "s.md" in paths(ix.search(query)), query


def test_single_han_character_finds_documents_containing_it(vault: Path, isolated_index: Path) -> None:
    write(vault / "c.md", "一个孤零零的鼋字。")
    write(vault / "e.md", "结尾是鼋")
    ix = Index(isolated_index)
    ix.update(vault)
    assert paths(ix.search("鼋")) == {"c.md", "e.md"}


def test_word_matches_rank_above_substring_matches(vault: Path, isolated_index: Path) -> None:
    write(vault / "word.md", "他们在讨论工会的问题。")
    write(vault / "sub.md", "这是加工会议的记录。")
    ix = Index(isolated_index)
    ix.update(vault)
    ranked = [h.path for h in ix.search("工会") if h.path in {"word.md", "sub.md"}]
    assert ranked == ["word.md", "sub.md"]


def test_explain_lists_tokens_fields_and_scores(indexed: Index) -> None:
    explanation = indexed.explain("好莱坞 罢工 莱坞", SEED)
    assert explanation.tokens == ("好莱坞", "罢工", "莱坞")
    assert explanation.rank == 1 and explanation.match == "all" and explanation.total == 3
    fields = {(c.field, c.term) for c in explanation.contributions}
    assert {("title", "好莱坞"), ("summary", "罢工"), ("body", "罢工"), ("grams", "莱坞")} <= fields
    assert ("title", "罢工") not in fields  # the title has no 罢工
    assert abs(sum(c.score for c in explanation.contributions) - explanation.score) < 1e-6
    assert explanation.missing == ()


def test_explain_a_document_that_does_not_match(indexed: Index) -> None:
    explanation = indexed.explain("好莱坞 罢工", "00-元语/Claude Code.md")
    assert explanation.rank is None and explanation.match == "none"
    assert explanation.missing == ("好莱坞", "罢工")


def test_explain_unknown_document(indexed: Index) -> None:
    from searchkit import DocumentError

    with pytest.raises(DocumentError):
        indexed.explain("好莱坞", "nope.md")


def test_quoted_han_phrase_also_matches_text_cut_differently(vault: Path, isolated_index: Path) -> None:
    """「河西文化」 in a question must find a passage containing 河西文化 even when
    jieba cut the passage as 河/西文/化 (found by the quality benchmark, #4)."""
    write(vault / "h.md", "这里讨论河西文化的发展。")
    ix = Index(isolated_index)
    ix.update(vault)
    assert "h.md" in paths(ix.search("「河西文化」"))
    assert "h.md" in paths(ix.search('"西文化的发"'))  # any contiguous run of the text
    assert ix.search('"化的 河西"').total == 0  # words with a space still need to be adjacent


def test_single_characters_of_a_query_word_do_not_light_up_elsewhere(vault: Path, isolated_index: Path) -> None:
    write(vault / "z.md", "智能体很具体。")
    ix = Index(isolated_index)
    ix.update(vault)
    snippet = next(h.snippet for h in ix.search("智能体") if h.path == "z.md")
    assert snippet == "<mark>智能体</mark>很具体。"


def test_wiki_links_read_as_their_alias_or_name(vault: Path, isolated_index: Path) -> None:
    write(vault / "w.md", "见 [[02-资源/工具/某工具：说明|某工具]] 与 [[00-元语/AI]] 的笔记。")
    ix = Index(isolated_index)
    ix.update(vault)
    hit = next(h for h in ix.search("笔记") if h.path == "w.md")
    assert "02-资源" not in hit.snippet and "某工具" in hit.snippet and "AI" in hit.snippet


def test_explain_gives_the_rank_query_shows_ties_included(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    text = "---\ntitle: 同样的笔记\n---\n两份一模一样的笔记，讲的都是并列排序。"
    write(vault / "b.md", text)
    write(vault / "a" / "z.md", text)
    write(vault / "c.md", "---\ntitle: 别的\n---\n并列排序只出现一次。并列。")
    ix = Index(tmp_path / "index")
    ix.update(vault)
    for query in ("并列排序", "同样的笔记", "path:a/ OR path:b"):
        paths = [hit.path for hit in ix.search(query, limit=10)]
        assert len(paths) >= 2, query
        for rank, path in enumerate(paths, 1):
            assert ix.explain(query, path).rank == rank, (query, path)


def test_explain_ranks_filter_only_queries_as_query_lists_them(indexed: Index) -> None:
    paths = [hit.path for hit in indexed.search("tag:AI", limit=5)]
    assert len(paths) == 5
    assert [indexed.explain("tag:AI", path).rank for path in paths] == [1, 2, 3, 4, 5]


def test_hits_keep_the_ranges_of_their_marks(indexed: Index) -> None:
    import html as html_module

    for query in ("好莱坞 罢工", "Claude Code", "卡梅隆"):
        for hit in indexed.search(query):
            marked = [hit.snippet_text[start:end] for start, end in hit.snippet_ranges]
            assert marked == [html_module.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", hit.snippet)]
            assert html_module.unescape(re.sub(r"</?mark>", "", hit.snippet)) == hit.snippet_text
            assert hit.to_dict(["snippet_ranges"]) == {"snippet_ranges": [list(r) for r in hit.snippet_ranges]}


def test_a_snippet_follows_the_file_as_it_is_now(vault: Path, isolated_index: Path) -> None:
    """Snippets are cut from the file; the prepared text kept between searches is
    the file's as it is now, not as it was at the first search."""
    note = write(vault / "n.md", "---\ntitle: 笔记\n---\n关于量子计算的第一版。")
    ix = Index(isolated_index)
    ix.update(vault)
    assert "第一版" in ix.search("量子计算").hits[0].snippet
    write(note, "---\ntitle: 笔记\n---\n关于量子计算的第二版，改过了。")
    assert "第二版" in ix.search("量子计算").hits[0].snippet
    note.unlink()
    assert ix.search("量子计算").hits[0].snippet == ""  # gone: the stored summary (none here)


def test_prepared_texts_are_kept_up_to_a_budget_of_characters() -> None:
    from searchkit.search import PreparedTexts

    kept = PreparedTexts(budget=10)
    kept.put("a", "A", 4)
    kept.put("b", "B", 4)
    assert kept.get("a") == "A"  # now the most recent
    kept.put("c", "C", 4)  # over the budget: the least recent goes
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == ("A", None, "C") and kept.size == 8
    kept.put("huge", "H", 100)  # one text larger than the budget is still kept, alone
    assert kept.get("huge") == "H" and kept.get("a") is None and kept.size == 100
    kept.clear()
    assert kept.get("huge") is None and kept.size == 0
