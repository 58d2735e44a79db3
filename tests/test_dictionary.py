"""The dictionary learned from the vault and added by users (#4)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from searchkit import Index, analysis
from searchkit.cli import cli

from .conftest import SEED, write


def test_words_with_spaces_become_one_entry_on_top_of_their_tokens() -> None:
    analyzer = analysis.Analyzer(["Stability AI", "Claude Code"])
    result = list(analyzer.iter_tokens("Stability AI和Claude  Code"))
    assert ("stability ai", 0, 0, 12) in result
    assert ("claude code", 3, 13, 25) in result
    assert ("stability", 0, 0, 9) in result and ("ai", 1, 10, 12) in result  # parts still indexed
    positions = [p for _, p, _, _ in result]
    assert positions == sorted(positions)


def test_han_dictionary_word_stays_whole() -> None:
    assert "数字生命卡兹克" not in analysis.query_tokens("数字生命卡兹克说")
    analyzer = analysis.Analyzer(["数字生命卡兹克"])
    assert analyzer.query_tokens("数字生命卡兹克说") == ["数字生命卡兹克", "说"]
    assert "数字生命卡兹克" not in analysis.query_tokens("数字生命卡兹克说")  # another analyzer's words stay its own
    analyzer.set_words([])  # words can be taken away again
    assert "数字生命卡兹克" not in analyzer.query_tokens("数字生命卡兹克说")


def test_vault_names_are_learned(indexed: Index) -> None:
    words = set(indexed.dictionary())
    assert {"数字生命卡兹克", "claude code", "go-ethereum", "ethereum/go-ethereum"} <= words
    assert not any(len(w) > 40 for w in words)


def test_learned_name_ranks_documents_that_have_it_whole(vault: Path, isolated_index: Path) -> None:
    write(vault / "whole.md", "---\ntags: [Stability AI]\n---\n关于 Stability AI 的笔记。")
    write(vault / "apart.md", "AI 的 stability 问题，以及 AI 的别的问题，stability 很重要。")
    ix = Index(isolated_index)
    ix.update(vault)
    ranked = [h.path for h in ix.search("Stability AI") if h.path in {"whole.md", "apart.md"}]
    assert ranked == ["whole.md", "apart.md"]  # both match; the whole name ranks first
    notes = {c.note for c in ix.explain("Stability AI", "whole.md").contributions}
    assert "dictionary name" in notes


def test_user_words_apply_on_next_index_to_affected_documents_only(vault: Path, isolated_index: Path) -> None:
    ix = Index(isolated_index)
    ix.update(vault)
    assert ix.add_words(["狮门影业", "Runway 公司"]) == ["狮门影业", "Runway 公司"]
    assert ix.add_words(["狮门影业"]) == []
    assert "狮门影业" in ix.user_dictionary_path.read_text("utf-8")
    stats = ix.update(vault)
    assert stats.reindexed == 1 and stats.changed == 0  # only the seed mentions 狮门影业
    assert "狮门影业" in ix.dictionary()
    assert ix.search("狮门影业").hits[0].path == SEED
    assert ix.remove_words(["狮门影业"]) == ["狮门影业"]
    again = ix.update(vault)
    assert again.reindexed == 1 and "狮门影业" not in ix.dictionary()
    assert ix.search("狮门影业").hits[0].path == SEED


def test_dict_commands(vault: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(vault)]).exit_code == 0
    added = runner.invoke(cli, ["dict", "add", "Stability AI", "狮门影业"])
    assert added.exit_code == 0 and "added 2 words" in added.stdout
    again = runner.invoke(cli, ["dict", "add", "狮门影业"])
    assert "already in the dictionary" in again.stderr
    assert runner.invoke(cli, ["dict", "list"]).stdout.split("\n")[:2] == ["Stability AI", "狮门影业"]
    indexed = runner.invoke(cli, ["index"])
    assert "re-indexed for the dictionary" in indexed.stdout
    assert "stability ai" in runner.invoke(cli, ["dict", "list", "--all"]).stdout
    removed = runner.invoke(cli, ["dict", "remove", "狮门影业", "nothing"])
    assert removed.exit_code == 0 and "not in" in removed.stderr
