from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from searchkit.analysis import WORD_CHAR_CLASS, normalize
from searchkit.highlight import make_snippet, match_ranges, sentence_spans

_TAG = re.compile(r"</?mark>")


def test_marks_land_exactly_on_chinese_words() -> None:
    snippet = make_snippet("好莱坞编剧罢工持续了一百多天。", ["好莱坞", "罢工"])
    assert snippet == "<mark>好莱坞</mark>编剧<mark>罢工</mark>持续了一百多天。"


def test_marks_land_on_original_forms_after_folding() -> None:
    text = "大家都喜歡寶可夢，也调用ＡＰＩ。"
    assert match_ranges(text, ["宝可梦", "api"]) == [(5, 8), (12, 15)]
    assert "<mark>寶可夢</mark>" in make_snippet(text, ["宝可梦"])


def test_latin_terms_match_whole_words_only() -> None:
    assert match_ranges("R语言和Rust", ["r"]) == [(0, 1)]
    assert match_ranges("GPT-4o 与 gpt-4", ["gpt"]) == [(0, 3), (9, 12)]


def test_snippet_picks_the_sentence_with_most_distinct_terms() -> None:
    text = "罢工开始了。好莱坞很热闹。好莱坞编剧宣布罢工。后来结束了。"
    assert make_snippet(text, ["好莱坞", "罢工"]).startswith("<mark>好莱坞</mark>编剧宣布<mark>罢工</mark>。")


def test_snippet_is_html_escaped() -> None:
    snippet = make_snippet("危险<script>alert(1)</script>的罢工。", ["罢工"])
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet and "<mark>罢工</mark>" in snippet


def test_match_past_32k_characters_is_highlighted() -> None:
    text = "无关的句子。" * 7000 + "最后好莱坞罢工了。"
    assert len(text) > 40000
    assert "<mark>罢工</mark>" in make_snippet(text, ["罢工"])


def test_long_sentence_is_cropped_around_the_match() -> None:
    text = "很长" * 300 + "罢工" + "很长" * 300
    snippet = make_snippet(text, ["罢工"])
    assert "<mark>罢工</mark>" in snippet
    assert len(_TAG.sub("", snippet)) < 200
    assert snippet.startswith("…") and snippet.endswith("…")


def test_sentences_split_on_chinese_and_western_marks() -> None:
    text = "一句。两句！三句？四；Five. Six\n七"
    pieces = [text[s:e] for s, e in sentence_spans(text)]
    assert pieces == ["一句。", "两句！", "三句？", "四；", "Five.", " Six\n", "七"]


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("好莱坞罢工编剧<>&\"。！？.\n aR寶")), max_size=300),
    st.lists(st.sampled_from(["好莱坞", "罢工", "r", "宝"]), min_size=1, max_size=3),
)
def test_snippet_is_escaped_text_of_the_document(text: str, terms: list[str]) -> None:
    snippet = make_snippet(text, terms)
    assert snippet.count("<mark>") == snippet.count("</mark>")
    plain = html.unescape(_TAG.sub("", snippet)).strip("…")
    flattened = re.sub(r"\s*\n\s*", " ", text)
    assert plain in flattened


def test_neighbouring_matches_form_one_mark() -> None:
    """提示 and 词 side by side are one <mark>, not two (speed benchmark review, #3)."""
    assert make_snippet("如何写好提示词。", ["提示", "词"]) == "如何写好<mark>提示词</mark>。"


def test_snippet_prefers_the_sentence_showing_more_of_the_query() -> None:
    text = "开头标记在这里。中间的文字。结尾标记在这里。"
    snippet = make_snippet(text, ["结尾标记", "结尾", "标记"])
    assert "<mark>结尾标记</mark>" in snippet and "开头" not in snippet


def _regex_ranges(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """The reference: one regex of the terms, longest first, Latin ones as whole words."""
    alternatives = []
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = re.escape(term)
        if re.match(WORD_CHAR_CLASS, term[0]):
            escaped = rf"(?<!{WORD_CHAR_CLASS}){escaped}"
        if re.match(WORD_CHAR_CLASS, term[-1]):
            escaped = rf"{escaped}(?!{WORD_CHAR_CLASS})"
        alternatives.append(escaped)
    merged: list[tuple[int, int]] = []
    for match in re.finditer("|".join(alternatives), normalize(text)):
        start, end = match.span()
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="好莱坞罢工提示词 ab-c.r R12 Rust 大模型。，寶", max_size=40),
    terms=st.lists(st.sampled_from(["好莱坞", "罢工", "莱坞", "坞罢", "提示", "词", "r", "ab", "a", "b-c", "12",
                                    "rust", "大模", "大模型", "模型", "c", "宝"]), min_size=1, max_size=5),
)
def test_match_ranges_finds_what_one_regex_of_the_terms_finds(text: str, terms: list[str]) -> None:
    assert match_ranges(text, terms) == _regex_ranges(text, terms)
