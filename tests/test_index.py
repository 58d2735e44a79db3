from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from searchkit import Index, IndexDamagedError, IndexLockedError, IndexNotFoundError, IndexVersionError
from searchkit.indexfiles import META_FILE

from .conftest import SEED, write


def test_update_indexes_every_document(vault: Path, isolated_index: Path) -> None:
    stats = Index(isolated_index).update(vault)
    files = sorted(p for p in vault.rglob("*.md"))
    assert stats.added == len(files) == stats.documents
    assert stats.changed == stats.removed == stats.unchanged == 0
    assert SEED in set(Index(isolated_index).documents())


def test_unchanged_files_are_not_reread(vault: Path, indexed: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    from searchkit import shard, sync

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(sync, "read_document", fail)
    monkeypatch.setattr(shard, "read_document", fail)
    stats = indexed.update(vault)
    assert stats.unchanged == stats.documents and stats.added == stats.changed == 0


def test_add_change_and_delete_are_synced(vault: Path, indexed: Index) -> None:
    write(vault / "new" / "新笔记.md", "---\ntitle: 新笔记\n---\n蓝鲸标记词出现在这里。")
    seed = vault / SEED
    seed.write_text(seed.read_text("utf-8").replace("深夜", "紫罗兰标记词。深夜"), "utf-8")
    os.utime(seed, ns=(seed.stat().st_atime_ns, seed.stat().st_mtime_ns + 10**9))
    (vault / "00-元语" / "Claude Code.md").unlink()

    stats = indexed.update(vault)
    assert (stats.added, stats.changed, stats.removed) == (1, 1, 1)
    assert [h.path for h in indexed.search("蓝鲸标记词")] == ["new/新笔记.md"]
    assert [h.path for h in indexed.search("紫罗兰标记词")] == [SEED]
    assert "00-元语/Claude Code.md" not in set(indexed.documents())
    assert len(indexed) == stats.documents
    # the changed document is replaced, not duplicated
    assert indexed.search("好莱坞 罢工").total == 3


def test_unreadable_and_binary_files_are_skipped_the_rest_indexed(vault: Path, isolated_index: Path) -> None:
    (vault / "bin.md").write_bytes(b"\x00\x01\x02PNG")
    (vault / "latin1.md").write_bytes("caf\xe9 \x80\x81\xfe".encode("latin-1"))
    secret = write(vault / "secret.md", "秘密")
    secret.chmod(0)
    try:
        stats = Index(isolated_index).update(vault)
    finally:
        secret.chmod(0o644)
    reasons = {s.path: s.reason for s in stats.skipped}
    assert "binary" in reasons["bin.md"]
    if os.geteuid() != 0:  # root reads anything
        assert "secret.md" in reasons
    assert stats.documents >= 8
    assert Index(isolated_index).search("好莱坞 罢工").total == 3


def test_hidden_folders_tmp_files_and_other_suffixes_are_ignored(vault: Path, isolated_index: Path) -> None:
    write(vault / ".obsidian" / "x.md", "zqxhidden")
    write(vault / "draft.md.tmp", "zqxhidden")
    write(vault / "notes.txt", "zqxvisible")
    write(vault / "page.markdown", "zqxvisible")
    write(vault / "image.png", "zqxhidden")
    ix = Index(isolated_index)
    ix.update(vault)
    assert ix.search("zqxhidden").total == 0
    assert {h.path for h in ix.search("zqxvisible")} == {"notes.txt", "page.markdown"}


def test_lost_metadata_file_does_not_lose_the_index(vault: Path, indexed: Index) -> None:
    """A process killed between the Whoosh commit and writing searchkit.json (#6)."""
    (indexed.path / META_FILE).unlink()
    assert Index(indexed.path).search("好莱坞 罢工").total == 3
    stats = Index(indexed.path).update(vault)
    assert stats.added == stats.changed == stats.removed == 0
    assert json.loads((indexed.path / META_FILE).read_text())["dictionary"]


def test_search_without_index_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError) as info:
        Index(tmp_path / "nowhere").search("好莱坞")
    assert info.value.path == str(tmp_path / "nowhere")
    assert "searchkit index" in str(info.value)


def test_incompatible_index_asks_for_rebuild(vault: Path, indexed: Index) -> None:
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, STORED, Schema

    indexed.close()
    for child in indexed.path.iterdir():
        child.unlink()
    whoosh_index.create_in(str(indexed.path), Schema(path=ID(stored=True), searchkit_v0_1=STORED()))
    with pytest.raises(IndexVersionError) as info:
        Index(indexed.path).search("好莱坞")
    assert info.value.found == "0/1"
    assert "--rebuild" in str(info.value)
    stats = Index(indexed.path).update(vault, rebuild=True)
    assert stats.added == stats.documents
    assert Index(indexed.path).search("好莱坞 罢工").total == 3


def test_second_writer_gets_a_clear_error(vault: Path, indexed: Index) -> None:
    from whoosh import index as whoosh_index

    holder = whoosh_index.open_dir(str(indexed.path)).writer()
    try:
        with pytest.raises(IndexLockedError) as info:
            Index(indexed.path).update(vault)
        assert "another process" in str(info.value)
    finally:
        holder.cancel()
    Index(indexed.path).update(vault)  # the lock is free again


def test_hits_are_plain_objects_usable_after_close(indexed: Index) -> None:
    results = indexed.search("好莱坞 罢工")
    hit = results.hits[0]
    assert hit.path == SEED
    assert hit.to_dict()["tags"] == ["数字生命卡兹克", "AI", "llm"]
    assert set(hit.to_dict()) == {"path", "title", "score", "date", "tags", "snippet"}


def test_a_changed_file_that_became_unreadable_keeps_its_old_version(vault: Path, indexed: Index) -> None:
    seed = vault / SEED
    seed.write_bytes(b"\x00now binary")
    stats = indexed.update(vault)
    assert [s.path for s in stats.skipped] == [SEED]
    assert stats.unchanged == stats.documents - 1 and stats.changed == 0
    assert indexed.search("好莱坞 罢工").total == 3  # nothing lost


def _segment_files(index_path: Path) -> list[Path]:
    return sorted(index_path.glob("*.skp"))


def test_many_small_updates_keep_few_segments_and_every_word(vault: Path, indexed: Index) -> None:
    from searchkit.store import MAX_SMALL_SEGMENTS

    note = vault / "notes" / "日记.md"
    for day in range(MAX_SMALL_SEGMENTS + 5):
        write(note, f"---\ntitle: 日记{day}\n---\n今天的标记词是第{day}号灯塔守望者。")
        os.utime(note, ns=(10**18 + day * 10**9, 10**18 + day * 10**9))
        write(vault / "notes" / f"新{day}.md", f"每次新增的文件记下“琥珀{day}号”。")
        stats = indexed.update(vault)
        assert (stats.added, stats.changed) == ((1, 1) if day else (2, 0))
        assert len(_segment_files(indexed.path)) <= MAX_SMALL_SEGMENTS + 1
        # documents from merged segments keep their words, positions and lengths
        assert indexed.search(f'"第{day}号灯塔守望者"').total == 1
        assert [h.path for h in indexed.search("琥珀0号")] == ["notes/新0.md"]
        assert indexed.search("好莱坞 罢工").total == 3
    assert indexed.search('"第0号灯塔守望者"').total == 0  # the old version is gone
    assert len(indexed) == len(list(vault.rglob("*.md")))


def test_an_edit_does_not_merge_segments_of_long_notes(vault: Path, indexed: Index) -> None:
    """Small is counted in bytes: segments of a few long notes are not merged by the
    commit of an edit (it took a watcher's edit 7–10 s on the vault)."""
    from searchkit.store import MAX_SMALL_SEGMENTS, SMALL_SEGMENT_BYTES

    characters = [chr(code) for code in range(0x4E00, 0x9FA5)]
    rng = random.Random(7)
    for number in range(MAX_SMALL_SEGMENTS + 1):
        text = "".join(rng.choice(characters) for _ in range(40_000))
        # titles that are sentences, not names: no dictionary change re-indexes a note
        write(vault / "long" / f"长文{number}.md", f"# 一篇很长的文章，第{number}篇\n\n{text}\n")
        indexed.update(vault)
    long_segments = [path for path in _segment_files(indexed.path) if path.stat().st_size >= SMALL_SEGMENT_BYTES]
    assert len(long_segments) > MAX_SMALL_SEGMENTS
    for day in range(3):
        write(vault / "notes" / f"短{day}.md", f"# 一条短笔记，第{day}条\n\n很短。")
        indexed.update(vault)
        assert set(long_segments) <= set(_segment_files(indexed.path))  # none copied
    assert indexed.search("很长的文章 第3篇").hits[0].path == "long/长文3.md"


def test_a_mostly_deleted_segment_is_rewritten(vault: Path, indexed: Index) -> None:
    before = _segment_files(indexed.path)
    files = sorted(vault.rglob("*.md"))
    for path in files[: len(files) * 2 // 3]:
        if path.relative_to(vault).as_posix() != SEED:
            path.unlink()
    indexed.update(vault)
    after = _segment_files(indexed.path)
    assert len(after) == 1 and after != before  # copied without its deleted documents
    assert [h.path for h in indexed.search("好莱坞 罢工")][:1] == [SEED]
    assert len(indexed) == len(list(vault.rglob("*.md")))


def test_a_missing_postings_file_is_a_clear_error(indexed: Index) -> None:
    for path in _segment_files(indexed.path):
        path.unlink()
    reopened = Index(indexed.path)
    with pytest.raises(IndexDamagedError, match=r"is damaged \(MAIN_\w+\.skp: .*--rebuild"):
        reopened.search("好莱坞")


def test_snippets_come_from_the_file_and_fall_back_to_the_summary(vault: Path, indexed: Index, tmp_path: Path) -> None:
    hit = indexed.search("好莱坞 罢工").hits[0]
    assert hit.path == SEED and "<mark>罢工</mark>" in hit.snippet
    vault.rename(tmp_path / "moved")  # the index keeps working without its folder
    hit = Index(indexed.path).search("好莱坞 罢工").hits[0]
    plain = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert hit.path == SEED and "<mark>罢工</mark>" in hit.snippet and plain[:30] in hit.summary


def test_a_commit_between_opening_whoosh_and_the_postings_is_retried(
    vault: Path, indexed: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit that merges segments deletes their postings files: a searcher opened
    just before it takes the newer commit instead of failing."""
    from searchkit import store

    real = store.SegmentPostings
    calls = []

    def vanishing(path: Path) -> object:
        calls.append(path)
        if len(calls) == 1:  # another process commits, and this file goes with its segment
            write(vault / "new.md", "---\ntitle: 新\n---\n并发提交的标记词")
            Index(indexed.path).update(vault)
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real(path)

    monkeypatch.setattr(store, "SegmentPostings", vanishing)
    reader = Index(indexed.path)
    assert [h.path for h in reader.search("并发提交标记词")] == ["new.md"]
