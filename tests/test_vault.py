"""The whole real vault (3,277 files), when it is beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchkit import Index

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
