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


def test_a_new_name_is_searchable_before_the_documents_it_reindexes(vault: Path, isolated_index: Path) -> None:
    """A watcher's sync indexes what changed at once and leaves the documents a new
    dictionary word touches to the next syncs, a few at a time: the index ends as a
    sync without a limit leaves it, and a crash in between loses nothing."""
    for number in range(5):
        write(vault / f"mention{number}.md", f"第{number}篇笔记提到了奇异果冰沙，别的内容。")
    ix = Index(isolated_index)
    ix.update(vault)
    write(vault / "奇异果冰沙.md", "配方：香蕉和酸奶。")  # a short title: learned as a name
    first = ix.update(vault, reindex_limit=2)
    assert (first.added, first.reindexed, first.deferred) == (1, 2, 3)
    assert "奇异果冰沙" in ix.dictionary()
    assert ix.search("香蕉 酸奶").hits[0].path == "奇异果冰沙.md"
    assert ix.search("奇异果冰沙").total == 6  # the documents not yet cut again match by their characters
    assert ix.metadata()["pending"] and len(ix.metadata()["pending"]) == 3
    reopened = Index(isolated_index)  # the rest is recorded, for whichever process syncs next
    second = reopened.update(vault, reindex_limit=2)
    assert (second.added, second.reindexed, second.deferred) == (0, 2, 1)
    third = reopened.update(vault)
    assert (third.reindexed, third.deferred) == (1, 0) and reopened.metadata()["pending"] == []
    whole = Index(isolated_index.parent / "whole")
    whole.update(vault)
    for query in ("奇异果冰沙", "笔记 提到", "香蕉"):  # scores differ: deleted documents count in idf until a merge
        assert {h.path for h in reopened.search(query)} == {h.path for h in whole.search(query)}
