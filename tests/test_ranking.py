"""BM25F scores checked against a reference computed here, from the documents' text.

The reference is written from the definition searchkit follows (Whoosh's BM25F):
for a term in one field of one document,

    idf   = ln(N / (df + 1)) + 1
    score = idf * (k1 + 1) * tf / (tf + k1 * (1 - b + b * length / average))

where N counts every document of the snapshot, deleted ones included, df the
documents whose field holds the term (deleted ones included), `length` is the
field's token count rounded to one byte's precision as Whoosh stores it, and
`average` is the field's total token count over all N documents divided by N.
Tokens are those of the analyzer in index mode (sub-words included), with the
dictionary the index was built with. Nothing of Ranker is used to compute it.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from whoosh.util.numeric import byte_to_length, length_to_byte

from searchkit import ranking
from searchkit.analysis import Analyzer
from searchkit.arrays import Scores
from searchkit.documents import Document, read_document
from searchkit.index import Index
from searchkit.ranking import BM25_B, BM25_K1, FIELD_WEIGHTS, Ranker

from .conftest import write

FIELDS = tuple(FIELD_WEIGHTS)

# Five documents: frontmatter titles and tags, a 摘要 section (up to the next `##`
# heading: `## 正文` is dropped, the text after it is the body), a 关联主题 tag,
# Chinese and English words, terms repeated within a field, bodies long enough that
# their stored lengths are rounded (50 tokens are stored as 52). The first two teach
# the dictionary names (tags, short titles, `search engines`); the last three have
# none of their own, so that deleting them leaves the dictionary as it is and no
# document is indexed again.
CORPUS = {
    "notes/bm25.md": """---
title: 排序公式
tags: [检索, 排序, Search Engines]
---
# 排序公式

## 摘要
检索系统用 BM25 给文档打分，检索词越少见分数越高。

## 正文
BM25 是检索里最常用的排序公式。它看词频、文档长度和逆文档频率。
检索、检索、再检索：同一个词出现多次，分数增长得越来越慢。
Ranking with BM25 uses term frequency and document length; ranking is fun.
""",
    "notes/segment.md": """---
title: 中文分词
tags: 分词
---
## 摘要
中文分词把句子切成词，检索前必须先分词。

## 正文
正文里讲 jieba 分词和 node.js 的分词库，还有 GPT-4o 生成的例子。
分词、分词、分词。中华人民共和国的检索也要分词。

## 关联主题
[[00-元语/检索]]
""",
    "notes/english.md": """---
title: Search engines, briefly
---
## 摘要
How search engines rank documents.

## 正文
Search engines rank documents. A search engine counts each term: search, search, search.
Ranking matters for search; BM25 is one ranking function.
""",
    "notes/long.md": """---
title: 长文：关于检索的一些随想
---
## 摘要
一篇很长的随想。

## 正文
"""
    + "检索的历史很长，从图书馆的卡片目录开始，到今天的搜索引擎，人们一直在想办法更快地找到需要的文字。" * 3
    + "\n最后再说一次检索，以及 ranking 和 BM25 的关系。\n",
    "notes/plain.md": """# 短笔记，第二篇

检索很重要，ranking 也是。xylophone 只在这里出现。
""",
}
DELETED = "notes/plain.md"


def build(vault: Path, index: Path, files: dict[str, str]) -> Index:
    for path, text in files.items():
        write(vault / path, text)
    ix = Index(index)
    ix.update(vault, workers=1)
    return ix


def read_all(vault: Path, paths: list[str]) -> dict[str, Document]:
    return {path: read_document(vault / path, vault).document for path in paths}


def tokens_of(analyzer: Analyzer, document: Document) -> dict[str, list[str]]:
    """Every token the index emits for each field, sub-words included. The tags
    field is the tags one per line."""
    texts = {
        "title": document.title,
        "tags": "\n".join(document.tags),
        "summary": document.summary,
        "body": document.body,
        "byline": "\n".join(value for value in (document.author, document.source) if value),
        "links": document.links,
    }
    return {name: [token for token, _, _, _ in analyzer.iter_tokens(texts[name])] for name in FIELDS}


def rounded(length: int) -> int:
    return int(byte_to_length(length_to_byte(length)))


def reference_terms(
    corpus: dict[str, dict[str, list[str]]], *, round_lengths: bool = True
) -> dict[tuple[str, str], dict[str, float]]:
    """(field, term) → path → BM25, over every document of `corpus` (deleted ones
    included: the caller leaves them out of what it compares)."""
    n = max(len(corpus), 1)
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for name in FIELDS:
        average = sum(len(fields[name]) for fields in corpus.values()) / n
        counts = {path: Counter(fields[name]) for path, fields in corpus.items()}
        for term in set().union(*counts.values()):
            holders = {path: count[term] for path, count in counts.items() if count[term]}
            idf = math.log(n / (len(holders) + 1)) + 1
            scores[name, term] = {}
            for path, tf in holders.items():
                length = len(corpus[path][name])
                if round_lengths:
                    length = rounded(length)
                denominator = tf + BM25_K1 * (1 - BM25_B + BM25_B * length / average)
                scores[name, term][path] = idf * (BM25_K1 + 1) * tf / denominator
    return scores


def reference_word(terms: dict[tuple[str, str], dict[str, float]], token: str) -> dict[str, float]:
    total: dict[str, float] = {}
    for name in FIELDS:
        for path, score in terms.get((name, token), {}).items():
            total[path] = total.get(path, 0.0) + FIELD_WEIGHTS[name] * score
    return total


def by_path(scores: Scores, paths: dict[int, str]) -> dict[str, float]:
    assert set(scores) <= set(paths), "a score for a document that is not live"
    return {paths[docnum]: score for docnum, score in scores.items()}


def live_only(scores: dict[str, float], live: set[str]) -> dict[str, float]:
    return {path: score for path, score in scores.items() if path in live}


def check_against_reference(ix: Index, corpus: dict[str, dict[str, list[str]]], live: set[str]) -> int:
    """Compare every term of every field, and every token as a word; the number of
    (field, term) scores compared."""
    snapshot = ix._current_snapshot()
    ranker = Ranker(snapshot)
    paths = snapshot.paths()
    assert set(paths.values()) == live
    expected = reference_terms(corpus)
    compared = 0
    for (name, term), scores in sorted(expected.items()):
        assert by_path(ranker.term(name, term), paths) == pytest.approx(live_only(scores, live), rel=1e-9), (
            name,
            term,
        )
        assert ranker.document_frequency(name, term) == len(scores), (name, term)
        compared += len(live_only(scores, live))
    for token in sorted({term for _, term in expected}):
        word = by_path(ranker.word(token), paths)
        assert word == pytest.approx(live_only(reference_word(expected, token), live), rel=1e-9), token
    for name in FIELDS:
        for absent in ("xyzzy", "不存在的词"):
            assert not ranker.term(name, absent)
    return compared


@pytest.fixture
def corpus_index(tmp_path: Path) -> tuple[Path, Index]:
    vault = tmp_path / "vault"
    return vault, build(vault, tmp_path / "index", CORPUS)


def test_term_and_word_scores_match_the_reference(corpus_index: tuple[Path, Index]) -> None:
    vault, ix = corpus_index
    snapshot = ix._current_snapshot()
    assert (snapshot.doc_count, snapshot.live_count, snapshot.deleted) == (5, 5, None)
    analyzer = Analyzer(ix.dictionary())
    corpus = {path: tokens_of(analyzer, document) for path, document in read_all(vault, list(CORPUS)).items()}
    compared = check_against_reference(ix, corpus, set(CORPUS))
    assert compared > 100

    # the corpus exercises what the formula depends on
    assert {"中文分词", "search engines", "检索"} <= set(ix.dictionary())
    assert "search engines" in corpus["notes/english.md"]["body"]  # a dictionary entry of two tokens
    assert {"node", "js", "gpt", "4o", "中华"} <= set(corpus["notes/segment.md"]["body"])  # sub-words
    assert Counter(corpus["notes/bm25.md"]["body"])["检索"] >= 4
    assert corpus["notes/segment.md"]["tags"] == ["检索", "分词"]  # 关联主题 links first
    assert corpus["notes/plain.md"]["summary"] == [] and corpus["notes/plain.md"]["tags"] == []
    body = len(corpus["notes/bm25.md"]["body"])
    assert rounded(body) != body  # 50 tokens are stored as 52
    # and the comparison would catch a length left unrounded
    assert reference_terms(corpus, round_lengths=False)["body", "检索"]["notes/bm25.md"] != pytest.approx(
        reference_terms(corpus)["body", "检索"]["notes/bm25.md"], rel=1e-9
    )


def test_word_is_the_sum_of_the_fields(corpus_index: tuple[Path, Index]) -> None:
    _, ix = corpus_index
    ranker = Ranker(ix._current_snapshot())
    for token in ("检索", "分词", "bm25", "ranking", "search", "search engines", "排序公式"):
        total: dict[int, float] = {}
        for name in FIELDS:
            for docnum, score in ranker.term(name, token).items():
                total[docnum] = total.get(docnum, 0.0) + score * FIELD_WEIGHTS[name]
        assert len(total) > 0, token
        assert dict(ranker.word(token).items()) == pytest.approx(total, rel=1e-12), token


def test_word_weighs_the_fields(corpus_index: tuple[Path, Index], monkeypatch: pytest.MonkeyPatch) -> None:
    vault, ix = corpus_index
    monkeypatch.setitem(ranking.FIELD_WEIGHTS, "title", 3.0)
    monkeypatch.setitem(ranking.FIELD_WEIGHTS, "body", 0.5)
    analyzer = Analyzer(ix.dictionary())
    corpus = {path: tokens_of(analyzer, document) for path, document in read_all(vault, list(CORPUS)).items()}
    expected = reference_terms(corpus)
    snapshot = ix._current_snapshot()
    ranker = Ranker(snapshot)
    for token in ("检索", "分词", "bm25", "排序公式", "search engines"):
        assert by_path(ranker.word(token), snapshot.paths()) == pytest.approx(
            reference_word(expected, token), rel=1e-9
        ), token


def test_deleted_documents_stay_counted_until_their_segment_is_rewritten(corpus_index: tuple[Path, Index]) -> None:
    vault, ix = corpus_index
    analyzer = Analyzer(ix.dictionary())
    documents = read_all(vault, list(CORPUS))
    corpus = {path: tokens_of(analyzer, document) for path, document in documents.items()}
    dictionary = ix.dictionary()

    (vault / DELETED).unlink()
    stats = ix.update(vault, workers=1)
    assert stats.removed == 1 and stats.reindexed == 0
    assert ix.dictionary() == dictionary
    snapshot = ix._current_snapshot()
    # 1 deleted of 5: the segment is kept as it is, the deleted document in it
    assert len(snapshot.segments) == 1
    assert (snapshot.doc_count, snapshot.live_count) == (5, 4)
    assert snapshot.deleted is not None and len(snapshot.deleted) == 1
    live = set(CORPUS) - {DELETED}

    # N and df still count the deleted document, and no score is given to it
    check_against_reference(ix, corpus, live)
    ranker = Ranker(snapshot)
    assert not ranker.term("body", "xylophone") and not ranker.word("xylophone")
    assert ranker.document_frequency("body", "xylophone") == 1
    (deleted_docnum,) = snapshot.deleted
    for token in ("检索", "ranking", "很", "重要"):
        assert deleted_docnum not in ranker.word(token), token
        assert deleted_docnum not in ranker.token(token, alone=True), token
    # the comparison would catch N and df that left the deleted document out
    without = reference_terms({path: corpus[path] for path in live})
    assert live_only(reference_terms(corpus)["body", "检索"], live) != pytest.approx(without["body", "检索"])

    assert ix.search("xylophone").total == 0
    for query in ("检索", "ranking", "检索 重要", '"检索很重要"', "很重要"):
        assert DELETED not in {hit.path for hit in ix.search(query, limit=50)}, query
    assert len(ix.search("检索", limit=50)) == 3

    # mostly deleted (3 of 5): the next commit rewrites the segment with its live
    # documents only, and N and df no longer count the deleted ones
    for path in ("notes/english.md", "notes/long.md"):
        (vault / path).unlink()
    stats = ix.update(vault, workers=1)
    assert stats.removed == 2 and stats.reindexed == 0
    assert ix.dictionary() == dictionary
    snapshot = ix._current_snapshot()
    assert (snapshot.doc_count, snapshot.live_count, snapshot.deleted) == (2, 2, None)
    live = {"notes/bm25.md", "notes/segment.md"}
    check_against_reference(ix, {path: corpus[path] for path in live}, live)


# ---- ties ---------------------------------------------------------------------------

TWIN = """---
title: 并列的笔记，两份
---
## 摘要
两份一模一样的笔记。

讲的都是并列排序，并列排序。
"""
# No tags and no short titles: adding files in a second update leaves the
# dictionary as it is, so no document is indexed again (which would leave a
# deleted copy counted in N).
TIE_FILES = {
    "b.md": TWIN,
    "a/z.md": TWIN,
    "c.md": "---\ntitle: 别的笔记，一\n---\n并列排序只出现一次，别的内容很多很多，笔记也有。\n",
    "d.md": "---\ntitle: 另一篇，二\n---\n并列排序 并列排序 并列排序 也在这里，笔记。\n",
}
TIE_QUERIES = ("并列排序", "笔记", "两份 笔记", "并列")


def scores_of(ix: Index) -> dict[str, list[tuple[str, float]]]:
    return {query: [(hit.path, hit.score) for hit in ix.search(query, limit=10)] for query in TIE_QUERIES}


def words_of(ix: Index, tokens: list[str]) -> dict[str, dict[str, float]]:
    snapshot = ix._current_snapshot()
    ranker = Ranker(snapshot)
    return {token: by_path(ranker.word(token), snapshot.paths()) for token in tokens}


@pytest.mark.parametrize("first", [["b.md", "c.md"], ["a/z.md", "c.md"], ["d.md"]], ids=["b", "z", "neither"])
def test_ties_rank_in_path_order_however_the_index_is_split(tmp_path: Path, first: list[str]) -> None:
    single = build(tmp_path / "one", tmp_path / "index-one", TIE_FILES)
    assert len(single._current_snapshot().segments) == 1
    expected = scores_of(single)
    tokens = sorted({t for text in TIE_FILES.values() for t, _, _, _ in Analyzer().iter_tokens(text)})
    expected_words = words_of(single, tokens)

    vault = tmp_path / "two"
    split = build(vault, tmp_path / "index-two", {path: TIE_FILES[path] for path in first})
    for path, text in TIE_FILES.items():
        if path not in first:
            write(vault / path, text)
    split.update(vault, workers=1)
    snapshot = split._current_snapshot()
    assert len(snapshot.segments) == 2
    assert snapshot.doc_count == snapshot.live_count == len(TIE_FILES)
    got = scores_of(split)

    for ix, ranked in ((single, expected), (split, got)):
        for query, hits in ranked.items():
            score = dict(hits)
            assert {"a/z.md", "b.md"} <= set(score), query
            assert score["a/z.md"] == score["b.md"], query
            order = [path for path, _ in hits]
            assert order.index("a/z.md") + 1 == order.index("b.md"), query
        ranker = Ranker(ix._current_snapshot())
        paths = ix._current_snapshot().paths()
        for token in ("并列", "排序", "笔记", "两份"):
            word = by_path(ranker.word(token), paths)
            assert word["a/z.md"] == word["b.md"], token

    for query in TIE_QUERIES:
        assert [path for path, _ in got[query]] == [path for path, _ in expected[query]], query
        assert dict(got[query]) == pytest.approx(dict(expected[query]), rel=1e-9), query
    got_words = words_of(split, tokens)
    for token in tokens:
        assert got_words[token] == pytest.approx(expected_words[token], rel=1e-9), token
