from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchkit.analysis import (
    JiebaSegmenter,
    RJiebaSegmenter,
    iter_tokens,
    normalize,
    query_tokens,
)

HARD_SENTENCES = [
    "好莱坞编剧罢工持续了一百多天，编剧工会表示满意。",
    "我来到北京清华大学",
    "他来到了网易杭研大厦",
    "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
    "工信处女干事每月经过下属科室都要亲口交代24口交换机等技术性器件的安装工作",
    "结过婚的和尚未结过婚的",
    "中华人民共和国成立了",
    "Stability AI发布了C++库，GPT-4o与iPhone 15，R语言，ＡＰＩ２０２４",
]


def tokens(text: str, query: bool = False) -> list[tuple[str, int, int, int]]:
    return list(iter_tokens(text, query=query))


def test_positions_count_words_and_subwords_share_them() -> None:
    result = tokens("中华人民共和国成立了")
    positions = {word: pos for word, pos, _, _ in result}
    assert positions["中华人民共和国"] == 0
    assert positions["人民"] == 0  # a search-mode sub-word shares its word's position
    assert positions["共和国"] == 0
    assert positions["成立"] == 1
    assert positions["了"] == 2


def test_query_mode_emits_whole_words_only() -> None:
    assert query_tokens("中华人民共和国成立了") == ["中华人民共和国", "成立", "了"]
    assert query_tokens("好莱坞罢工") == ["好莱坞", "罢工"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R语言", ["r", "语言"]),
        ("用C++写", ["用", "c++", "写"]),
        ("GPT-4o发布", ["gpt-4o", "发布"]),
        ("iPhone 15 Pro", ["iphone", "15", "pro"]),
        ("GPT-5来了", ["gpt-5", "来", "了"]),
        ("2024年", ["2024", "年"]),
        ("C#和F#", ["c#", "和", "f#"]),
        ("Node.js", ["node.js"]),
    ],
)
def test_latin_and_digit_runs_stay_whole(text: str, expected: list[str]) -> None:
    assert query_tokens(text) == expected


def test_joined_latin_words_also_index_their_parts() -> None:
    words = [t[0] for t in tokens("GPT-4o")]
    assert words == ["gpt-4o", "gpt", "4o"]
    assert {t[1] for t in tokens("GPT-4o")} == {0}
    assert [t[0] for t in tokens("C++")] == ["c++"]  # no bare "c" that a query for C would hit


def test_english_is_lowercased_not_stemmed() -> None:
    assert query_tokens("Claude Running Databases") == ["claude", "running", "databases"]


def test_full_width_folds_to_ascii_with_original_offsets() -> None:
    text = "调用ＡＰＩ在２０２４年"
    result = tokens(text, query=True)
    assert ("api", 1, 2, 5) in result
    assert ("2024", 3, 6, 10) in result
    assert text[2:5] == "ＡＰＩ"


def test_traditional_folds_to_simplified_keeping_offsets() -> None:
    text = "我喜歡寶可夢"
    result = tokens(text, query=True)
    words = [w for w, _, _, _ in result]
    assert "宝可梦" in words
    start, end = next((s, e) for w, _, s, e in result if w == "宝可梦")
    assert text[start:end] == "寶可夢"


def test_normalize_keeps_length() -> None:
    for text in ["İstanbul", "ＡＰＩ", "寶可夢", "ß", "Ǆ"]:
        assert len(normalize(text)) == len(text)


def test_punctuation_only_gives_no_tokens() -> None:
    assert query_tokens("，。！？——……") == []


@pytest.mark.parametrize("sentence", HARD_SENTENCES)
def test_offsets_slice_the_original_text(sentence: str) -> None:
    for word, _, start, end in tokens(sentence):
        assert normalize(sentence[start:end]) == word


@pytest.mark.parametrize("sentence", HARD_SENTENCES)
def test_jieba_and_rjieba_cut_han_text_identically(sentence: str) -> None:
    from searchkit.analysis import Analyzer

    results = []
    for segmenter in (RJiebaSegmenter(fresh=True), JiebaSegmenter()):
        results.append(list(Analyzer(segmenter=segmenter).iter_tokens(sentence)))
    assert results[0] == results[1]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("好莱坞编剧罢工中华人民共和国 ，。ＡＢab1-+.寶可夢İ\n")), max_size=60))
def test_any_text_positions_grow_by_at_most_one_and_offsets_hold(text: str) -> None:
    previous = -1
    for word, position, start, end in tokens(text):
        assert position in (previous, previous + 1)
        previous = position
        assert normalize(text[start:end]) == word


@given(st.text(alphabet=st.sampled_from("ＡＢｚ０９！？（），。　\u3000abcAB 好萊塢罷工蘋果İ\n"), max_size=60))
def test_width_folding_is_a_character_by_character_map(text: str) -> None:
    """normalize replaces only the full-width characters present, one by one: the same
    as mapping every character through the table."""
    from searchkit.analysis import _WIDTH_FOLD

    assert normalize(text) == normalize(text.translate(_WIDTH_FOLD))
    assert len(normalize(text)) == len(text)
