"""Prefix search: the last word of the query is still being typed (issue #14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit import Index, QueryError
from searchkit.cli import cli

from .conftest import write

NOTES = {
    "claude.md": "---\ntitle: Claude 入门\n---\n用 Claude 写代码。",
    "clause.md": "---\ntitle: 合同\n---\n一条 clause 的解释。",
    "model.md": "---\ntitle: 大模型\n---\n大模型推理的成本。",
    "other.md": "---\ntitle: 杂记\n---\n今天没有写代码。",
}


def index_of(tmp_path: Path) -> Index:
    for name, text in NOTES.items():
        write(tmp_path / "vault" / name, text)
    ix = Index(tmp_path / "index")
    ix.update(tmp_path / "vault")
    return ix


def test_the_last_word_matches_the_words_it_begins(tmp_path: Path) -> None:
    ix = index_of(tmp_path)
    assert ix.search("Clau").total == 0
    assert {hit.path for hit in ix.search("Clau", prefix=True)} == {"claude.md", "clause.md"}
    assert [hit.path for hit in ix.search("写代码 Clau", prefix=True)] == ["claude.md"]
    hit = ix.search("Clau", prefix=True).hits[0]
    assert "<mark>" in hit.snippet  # the completed word is marked


def test_only_the_word_being_typed(tmp_path: Path) -> None:
    ix = index_of(tmp_path)
    finished = ix.search("Clau 写代码", prefix=True)  # an earlier word is finished: no note has clau
    assert finished.match == "partial" and "clause.md" not in {hit.path for hit in finished}
    assert ix.search("Clau ", prefix=True).total == 0  # a space ends the word
    assert ix.search('"Clau"', prefix=True).total == 0  # a quoted word is exact
    assert ix.search("c", prefix=True).total == 0  # one letter begins too many words to complete
    assert ix.search("cl", prefix=True).total == 2


def test_han_runs_already_match_where_they_begin_a_word(tmp_path: Path) -> None:
    ix = index_of(tmp_path)
    assert [hit.path for hit in ix.search("大模", prefix=True)] == ["model.md"]
    assert [hit.path for hit in ix.search("大模型 推", prefix=True)] == ["model.md"]


def test_the_command_takes_prefix(tmp_path: Path) -> None:
    ix = index_of(tmp_path)
    result = CliRunner().invoke(cli, ["query", "Clau", "--prefix", "--index", str(ix.path), "--json"])
    assert result.exit_code == 0 and '"total": 2' in result.output


def test_a_query_being_typed_finds_what_its_words_so_far_find(tmp_path: Path) -> None:
    """Each keystroke of `"大模型推理" OR 写代码` searches: an unclosed quote or
    parenthesis counts as closed at the end, a last OR or - is not there yet."""
    ix = index_of(tmp_path)
    assert [h.path for h in ix.search('"大模型', prefix=True)] == ["model.md"]
    assert [h.path for h in ix.search("「大模型", prefix=True)] == ["model.md"]
    assert {h.path for h in ix.search("(大模型 OR 写代码", prefix=True)} == {"model.md", "claude.md", "other.md"}
    assert [h.path for h in ix.search("大模型 OR", prefix=True)] == ["model.md"]
    assert [h.path for h in ix.search("写代码 -", prefix=True)] == [h.path for h in ix.search("写代码")]
    assert [h.path for h in ix.search('title:"大模型', prefix=True)] == ["model.md"]
    for finished in ('"大模型', "(大模型 OR 写代码", "大模型 OR"):  # a finished query is still told what is wrong
        with pytest.raises(QueryError):
            ix.search(finished)
    with pytest.raises(QueryError, match="only excluded words"):
        ix.search("-写代码", prefix=True)  # what is wrong before the end stays an error


def test_a_whole_document_is_marked_as_the_snippets_are(tmp_path: Path) -> None:
    ix = index_of(tmp_path)
    assert "claude" in ix.highlight_terms("Clau", prefix=True)  # the completions, as in the snippets
    assert "claude" not in ix.highlight_terms("Clau")
