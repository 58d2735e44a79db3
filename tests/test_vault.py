"""The whole real vault (3,277 files), when it is beside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from searchkit import Index, load_document
from searchkit.analysis import normalize
from searchkit.documents import TEXT_FIELDS

from .conftest import SEED, SHARED_VAULT

pytestmark = pytest.mark.skipif(not SHARED_VAULT.is_dir(), reason="the vault is not beside the repo")


def test_vault_hollywood_strike_gives_exactly_three_seed_first(tmp_path: Path) -> None:
    ix = Index(tmp_path / "kb-index")
    stats = ix.update(SHARED_VAULT)
    assert stats.documents == 3276 and not stats.skipped
    results = ix.search("好莱坞 罢工")
    assert results.total == 3
    assert results.hits[0].path == SEED
    assert ix.search("好莱坞罢工").total == 3
    again = ix.update(SHARED_VAULT)
    assert again.unchanged == 3276 and again.added == again.changed == again.removed == 0


@pytest.fixture(scope="module")
def vault_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    ix = Index(tmp_path_factory.mktemp("kb") / "index")
    ix.update(SHARED_VAULT)
    return ix


def texts_holding(pattern: str) -> set[str]:
    """Notes whose searchable text (as searchkit reads it, folded) matches."""
    found = set()
    compiled = re.compile(pattern)
    for file in SHARED_VAULT.rglob("*.md"):
        document = load_document(file, SHARED_VAULT)
        text = "\n".join(document.text_of(name) for name in TEXT_FIELDS)
        if compiled.search(normalize(text)):
            found.add(document.path)
    return found


def test_vault_a_question_finds_the_note_that_answers_it(vault_index: Index) -> None:
    results = vault_index.search("有没有可以在本地运行大模型的开源工具")
    assert results.hits[0].title.startswith("Ollama")


def test_vault_a_quoted_phrase_finds_exactly_the_notes_holding_it(vault_index: Index) -> None:
    results = vault_index.search('"开源模型"', limit=1000)
    assert {hit.path for hit in results} == texts_holding("开源模型")


def test_vault_a_verbatim_run_brings_every_note_holding_it_first(vault_index: Index) -> None:
    holding = texts_holding("日常好用")
    assert 1 <= len(holding) <= 10
    assert holding <= {hit.path for hit in vault_index.search("日常好用", limit=10)}


def test_vault_names_and_versions(vault_index: Index) -> None:
    assert "没有护城河" in vault_index.search("没有护城河").hits[0].title
    sora = texts_holding(r"sora 2(?![0-9])")
    assert sora and sora <= {hit.path for hit in vault_index.search("Sora 2", limit=10)}
    assert vault_index.search("Cluade Code").corrected == {"cluade": "claude"}
    assert vault_index.search("人工智慧").total == vault_index.search("人工智能").total
