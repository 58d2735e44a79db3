"""Shared fixtures: a real vault copied into a temporary folder, and an index beside it.

No test reads or writes the developer's ./index: SEARCHKIT_INDEX points into tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_VAULT = Path(__file__).parent / "fixtures" / "vault"
REPO = Path(__file__).resolve().parent.parent
SHARED_VAULT = REPO.parent / "shared" / "corpus" / "kb"
SEED = "01-博客/数字生命卡兹克/詹姆斯 · 卡梅隆官宣加入Stability AI，好莱坞要向AI投降了。.md"


@pytest.fixture(autouse=True)
def isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    index_path = tmp_path / "index"
    monkeypatch.setenv("SEARCHKIT_INDEX", str(index_path))
    return index_path


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A dozen real vault files (frontmatter, 摘要, 关联主题, mixed 中文/English)."""
    target = tmp_path / "vault"
    shutil.copytree(FIXTURE_VAULT, target)
    return target


@pytest.fixture
def indexed(vault: Path, isolated_index: Path):  # type: ignore[no-untyped-def]
    from searchkit import Index

    ix = Index(isolated_index)
    ix.update(vault)
    return ix


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
