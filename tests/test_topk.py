"""The page of hits comes from a partial selection (`Scores.best`: the documents scoring
at least the k-th best, by numpy partition), not from sorting every match: on random
queries over a real index in several segments with deleted documents, it is exactly
the first k of all matches sorted by score and path, with the same total."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchkit import Index, shard, store
from searchkit.errors import QueryError
from searchkit.plan import plan_query, rank
from searchkit.ranking import Ranker

from .conftest import write


@pytest.fixture
def edited(vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Index, str]:
    with monkeypatch.context() as patch:
        patch.setattr(shard, "SEGMENT_TEXT_CHARS", 8_000)  # several segments of a few documents
        patch.setattr(store, "MERGED_SEGMENT_BYTES", 0)  # left apart
        patch.setattr(store, "MAX_SMALL_SEGMENTS", 1_000)  # and not merged by the edit's commit
        ix = Index(tmp_path / "index")
        ix.update(vault, workers=1)
        files = sorted(vault.rglob("*.md"))
        for number, path in enumerate(files[:3]):  # deleted documents, in more than one segment
            if number % 2:
                path.unlink()
            else:
                write(path, path.read_text("utf-8") + "\n又一行：模型与罢工。\n")
                os.utime(path, ns=(10**18 + number, 10**18 + number))
        ix.update(vault, workers=1)
    snapshot = ix._current_snapshot()
    assert len(snapshot.segments) > 2 and snapshot.deleted
    text = "".join(path.read_text("utf-8") for path in sorted(vault.rglob("*.md")))
    return ix, text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), limit=st.integers(1, 12))
def test_the_page_is_the_first_of_every_match_sorted(edited: tuple[Index, str], seed: int, limit: int) -> None:
    ix, text = edited
    rng = random.Random(seed)
    words = []
    for _ in range(rng.randint(1, 3)):
        start = rng.randrange(len(text) - 4)
        words.append("".join(c for c in text[start : start + rng.randint(1, 4)] if c not in '"()-:').strip())
    query = " ".join(word for word in words if word) or "模型"
    snapshot = ix._current_snapshot()
    try:
        results = ix.search(query, limit=limit)
    except QueryError:
        return
    scores, _ = rank(plan_query(query, ix._analyzer()), Ranker(snapshot))
    paths = snapshot.paths()
    everything = sorted(scores.items(), key=lambda item: (-item[1], paths[item[0]]))
    assert results.total == len(everything)
    assert [(h.path, h.score) for h in results] == [(paths[d], score) for d, score in everything[:limit]]
