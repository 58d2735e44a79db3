"""A build's segments merged into one (store.StoreWriter._merge, arrays.merge_postings):
the same postings as the Python merge writes, and the same answers to the letter as
the index left in many segments, before and after later edits."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchkit import Index, shard, store
from searchkit.documents import TEXT_FIELDS
from searchkit.errors import QueryError
from searchkit.postings import PostingsWriter, SegmentPostings

from .conftest import write

QUERIES = [
    "好莱坞 罢工",
    "罢工",
    "AI",
    "模型",
    '"大模型"',
    "AI OR 罢工",
    "模型 -AI",
    "tag:AI",
    "人工智慧",
    "有没有开源的模型",
    "claude",
    "clau",
    "大模",
    "gpt-4",
    "date:2023",
    "编剧",
    "莱坞",
]


def answers(ix: Index, query: str) -> list[object]:
    found = []
    for prefix in (False, True):
        for sort in ("relevance", "-date"):
            results = ix.search(query, limit=50, prefix=prefix, sort=sort, facets=["tag", "year"])
            hits = [(h.path, h.score, h.snippet) for h in results]
            found.append((results.total, results.match, hits, results.facets, results.corrected))
    return found


def build(vault: Path, path: Path, merged_bytes: int, monkeypatch: pytest.MonkeyPatch) -> Index:
    with monkeypatch.context() as patch:
        patch.setattr(shard, "SEGMENT_TEXT_CHARS", 2_000)  # a segment every file or two
        patch.setattr(store, "MERGED_SEGMENT_BYTES", merged_bytes)
        ix = Index(path)
        ix.update(vault, workers=1)
    return ix


@pytest.fixture
def pair(vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Index, Index]:
    return build(vault, tmp_path / "apart", 0, monkeypatch), build(vault, tmp_path / "merged", 2**40, monkeypatch)


def segments(ix: Index) -> list[Path]:
    return sorted(ix.path.glob("*.skp"))


def test_a_build_is_merged_into_one_segment_with_the_same_answers(pair: tuple[Index, Index]) -> None:
    apart, merged = pair
    assert len(segments(apart)) > 5 and len(segments(merged)) == 1
    for query in QUERIES:
        assert answers(merged, query) == answers(apart, query), query
    path = merged.search("好莱坞 罢工").hits[0].path
    assert merged.related(path).hits == apart.related(path).hits
    assert merged.explain("好莱坞 罢工", path) == apart.explain("好莱坞 罢工", path)


def test_merged_postings_are_those_the_python_merge_writes(pair: tuple[Index, Index], tmp_path: Path) -> None:
    apart, merged = pair
    toc_order = [source for source, _ in apart._current_snapshot().segments]  # in document order
    reference = PostingsWriter(TEXT_FIELDS)
    for source in toc_order:
        reference.add_segment(source, range(source.doc_count))
    reference.write(tmp_path / "reference.skp")
    from searchkit.arrays import merge_postings

    merge_postings(toc_order, tmp_path / "fast.skp")
    expected, found = SegmentPostings(tmp_path / "reference.skp"), SegmentPostings(tmp_path / "fast.skp")
    assert found.doc_count == expected.doc_count and found.field_names() == expected.field_names()
    for name in expected.field_names():
        a, b = found.field(name), expected.field(name)
        assert list(a.lengths) == list(b.lengths) and a.total_length == b.total_length
        for x, y in zip(a.iter_all(), b.iter_all(), strict=True):
            assert [x[0], *(list(values or ()) for values in x[1:])] == [
                y[0],
                *(list(values or ()) for values in y[1:]),
            ]


def test_tiny_blocks_and_groups(vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few values (each chunk of the merge spans many) and merged groups
    of a few segments each."""
    from searchkit import arrays, blocks

    monkeypatch.setattr(blocks, "BLOCK_VALUES", 5)
    monkeypatch.setattr(arrays, "MERGE_CHUNK_VALUES", 40)
    apart = build(vault, tmp_path / "apart", 0, monkeypatch)
    sizes = [path.stat().st_size for path in segments(apart)]
    grouped = build(vault, tmp_path / "grouped", max(sizes) * 2, monkeypatch)
    assert 1 < len(segments(grouped)) < len(segments(apart))
    monkeypatch.undo()
    for query in QUERIES:
        assert answers(grouped, query) == answers(apart, query), query


def test_edits_after_a_merge(pair: tuple[Index, Index], vault: Path) -> None:
    files = sorted(vault.rglob("*.md"))
    for number, path in enumerate(files[:4]):
        if number % 2:
            path.unlink()
        else:
            write(path, path.read_text("utf-8") + "\n追加的一行：灯塔守望者。\n")
            os.utime(path, ns=(10**18 + number, 10**18 + number))
    write(vault / "notes" / "新.md", "# 新笔记\n\n灯塔守望者与好莱坞罢工。")
    for ix in pair:
        ix.update(vault, workers=1)
    apart, merged = pair
    # the same documents match; scores may differ, since deleted documents still count
    # in the statistics until their segment is rewritten, and the segments differ
    for query in [*QUERIES, "灯塔守望者"]:
        found = [merged.search(query, limit=100, prefix=prefix) for prefix in (False, True)]
        expected = [apart.search(query, limit=100, prefix=prefix) for prefix in (False, True)]
        assert [(r.total, {h.path for h in r}) for r in found] == [(r.total, {h.path for h in r}) for r in expected]
    assert merged.search("灯塔守望者").total == 3
    assert {h.path for h in merged.search("灯塔守望者")} >= {"notes/新.md"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6))
def test_random_queries_answer_alike(pair: tuple[Index, Index], vault: Path, seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(path.read_text("utf-8") for path in sorted(vault.rglob("*.md")))
    words = []
    for _ in range(rng.randint(1, 3)):
        start = rng.randrange(len(text) - 4)
        words.append(text[start : start + rng.randint(1, 4)].strip() or "模型")
    query = " ".join(word.replace('"', "").replace("(", "").replace(")", "") for word in words)
    apart, merged = pair
    try:
        expected = answers(apart, query)
    except QueryError:  # a query the language refuses is refused alike
        with pytest.raises(QueryError):
            answers(merged, query)
        return
    assert answers(merged, query) == expected, query


def test_a_merge_that_fails_loses_nothing(vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted while it merges a run's segments (Ctrl-C, a full disk), an update
    leaves the index as it was, and the next one completes it."""
    from searchkit import arrays

    half = sorted(vault.rglob("*.md"))[::2]
    moved = tmp_path / "later"
    for path in half:
        target = moved / path.relative_to(vault)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    ix = build(vault, tmp_path / "index", 2**40, monkeypatch)
    before = answers(ix, "模型")
    for path in sorted(moved.rglob("*.md")):
        target = vault / path.relative_to(moved)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(shard, "SEGMENT_TEXT_CHARS", 2_000)
        patch.setattr(arrays, "merge_postings", interrupted)
        with pytest.raises(KeyboardInterrupt):
            Index(ix.path).update(vault, workers=1)
    assert answers(Index(ix.path), "模型") == before  # as it was
    with monkeypatch.context() as patch:
        patch.setattr(shard, "SEGMENT_TEXT_CHARS", 2_000)
        stats = Index(ix.path).update(vault, workers=1)
    assert stats.added == len(half) and len(Index(ix.path)) == len(list(vault.rglob("*.md")))
    fresh = build(vault, tmp_path / "fresh", 2**40, monkeypatch)
    for query in QUERIES:
        found = [(r.total, {h.path for h in r}) for r in (Index(ix.path).search(query, limit=100),)]
        assert found == [(r.total, {h.path for h in r}) for r in (fresh.search(query, limit=100),)], query
