"""Finding what people mean (issue #13)."""

from __future__ import annotations

from pathlib import Path

from searchkit import Index

from .conftest import write


def test_authors_and_sources_are_searchable_as_words(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    write(vault / "by.md", "---\ntitle: 写好提示词的方法\n作者: 宝玉\n来源: 宝玉的博客\n---\n关于提示词的几条经验。")
    write(vault / "about.md", "---\ntitle: 读后感\n作者: 某人\n---\n宝玉的文章写得很好。")
    write(vault / "other.md", "---\ntitle: 提示词合集\n作者: 某人\n---\n又一份提示词清单。")
    ix = Index(tmp_path / "index")
    ix.update(vault)
    assert {h.path for h in ix.search("宝玉")} == {"by.md", "about.md"}
    assert [h.path for h in ix.search("宝玉 提示词")] == ["by.md"]
    assert [h.path for h in ix.search("宝玉的博客")][0] == "by.md"
    fields = {c.field for c in ix.explain("宝玉 提示词", "by.md").contributions}
    assert "byline" in fields


def test_a_quoted_phrase_is_marked_as_one(indexed: Index) -> None:
    hit = indexed.search('"好莱坞大罢工"').hits[0]
    assert "<mark>好莱坞大罢工</mark>" in hit.snippet
    hit = indexed.search('"Stability AI"').hits[0]
    assert "<mark>Stability AI</mark>" in hit.snippet


def test_a_compound_finds_the_longer_compounds_it_begins(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    for name, text in {
        "plain.md": "GPT-5 发布了。",
        "point.md": "GPT-5.2 更快。",
        "codex.md": "GPT-5-Codex 写代码。",
        "mini.md": "用 gpt-5.1-mini 省钱。",
        "fifty.md": "GPT-50 并不存在。",
        "four.md": "GPT-4 5月发布。",
    }.items():
        write(vault / name, text)
    ix = Index(tmp_path / "index")
    ix.update(vault)
    assert {h.path for h in ix.search("GPT-5")} == {"plain.md", "point.md", "codex.md", "mini.md"}
    assert {h.path for h in ix.search("gpt-5.1")} == {"mini.md"}


def test_joined_and_spaced_names_are_the_same(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    write(vault / "spaced.md", "用 Claude Code 写代码。")
    write(vault / "joined.md", "用 Claude-Code 写代码。")
    write(vault / "snake.md", "配置 claude_code 的参数。")
    write(vault / "apart.md", "Claude 的 code 很多。")
    ix = Index(tmp_path / "index")
    ix.update(vault)
    expected = {"spaced.md", "joined.md", "snake.md"}
    assert {h.path for h in ix.search("Claude-Code")} == expected
    assert {h.path for h in ix.search("claude_code")} >= expected


def test_explain_shows_the_longer_compound_that_matched(tmp_path: Path) -> None:
    write(tmp_path / "vault" / "point.md", "GPT-5.2 更快。")
    ix = Index(tmp_path / "index")
    ix.update(tmp_path / "vault")
    explanation = ix.explain("GPT-5", "point.md")
    assert explanation.rank == 1 and not explanation.missing
    assert ("gpt-5.2", "for gpt-5") in {(c.term, c.note) for c in explanation.contributions}


def index_of(tmp_path: Path, files: dict[str, str]) -> Index:
    for name, text in files.items():
        write(tmp_path / "vault" / name, text)
    ix = Index(tmp_path / "index")
    ix.update(tmp_path / "vault")
    return ix


LONG_POST = (
    "---\ntitle: 一周杂谈\n---\n"
    + "有没有人问过我这个问题？可以聊聊。" * 3
    + "今天在公司里讨论了很多事情，本地的咖啡店也开了新店。" * 8
    + "运行一个团队不容易，大家都在谈大模型。" * 4
    + "开源社区很热闹，工具也越来越多。" * 4
)


def test_question_words_neither_veto_nor_score(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "ollama.md": "---\ntitle: Ollama：本地大模型运行与集成工具\n---\n一个开源工具，在本地运行大模型。",
            "post.md": LONG_POST,
        },
    )
    question = "有没有可以在本地运行大模型的开源工具"
    results = ix.search(question)
    assert [hit.path for hit in results][0] == "ollama.md"
    explanation = ix.explain(question, "ollama.md")
    assert {"有没有", "可以", "的"} <= set(explanation.unscored) and not explanation.missing
    assert explanation.match == "all"


def test_a_sentence_ranks_full_and_partial_matches_together(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "short.md": "---\ntitle: 本地运行大模型\n---\n用 Ollama 在本地运行大模型。",
            "post.md": LONG_POST,
        },
    )
    results = ix.search("有没有可以在本地运行大模型的开源工具")
    assert [hit.path for hit in results] == ["short.md", "post.md"]  # short.md lacks 开源 and 工具
    assert results.match == "partial"


def test_a_quoted_han_phrase_matches_only_where_its_characters_stand_together(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "yes.md": "国内的开源模型越来越多。",
            "apart.md": "开源大模型越来越多。",  # 开源 then 大模型: 模型 is a sub-word of 大模型
            "across.md": "开源与闭源模型之争。",
            "traditional.md": "開源模型的時代。",
        },
    )
    assert {hit.path for hit in ix.search('"开源模型"')} == {"yes.md", "traditional.md"}
    assert {hit.path for hit in ix.search('"源模型"')} == {"yes.md", "traditional.md", "across.md"}


def test_a_run_found_as_typed_ranks_above_its_words_apart(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "run.md": "---\ntitle: 机器人\n---\n机器人走向日常好用。",
            "apart.md": "---\ntitle: 杂记\n---\n" + "日常生活里，这些日常的小事。" * 5 + "这个工具好用。",
        },
    )
    assert [hit.path for hit in ix.search("日常好用")] == ["run.md", "apart.md"]
    notes = {c.note for c in ix.explain("日常好用", "run.md").contributions}
    assert "as typed" in notes


FILLER = {f"filler{i}.md": f"---\ntitle: 周报 {i}\n---\n本周完成了第 {i} 项工作，没有延期。" for i in range(12)}


def test_a_run_in_a_title_ranks_first(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "memo.md": "---\ntitle: 我们没有护城河，OpenAI 也没有\n---\n一份内部备忘录。",
            "essay.md": "---\ntitle: 评论\n---\n" + "都说没有护城河。大公司没有护城河吗？" * 3,
            **FILLER,
        },
    )
    assert [hit.path for hit in ix.search("没有护城河")][0] == "memo.md"
    notes = {c.note for c in ix.explain("没有护城河", "memo.md").contributions}
    assert "as typed, in the title" in notes


def test_words_typed_side_by_side_rank_documents_that_have_them_so(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "sora2.md": "---\ntitle: 视频模型\n---\nOpenAI 发布了 Sora 2。",
            "sora.md": "---\ntitle: Sora 评测\n---\n" + "Sora 的画面很好，Sora 的时长有 2 分钟。" * 3,
        },
    )
    assert [hit.path for hit in ix.search("Sora 2")] == ["sora2.md", "sora.md"]
    assert ("sora 2", "side by side") in {(c.term, c.note) for c in ix.explain("Sora 2", "sora2.md").contributions}


def claude_notes() -> dict[str, str]:
    notes = {f"claude{i}.md": f"---\ntitle: 笔记 {i}\n---\n用 Claude 写 code，第 {i} 篇。" for i in range(44)}
    notes["code.md"] = "---\ntitle: 工具\n---\n用 Claude Code 改代码。"
    notes["typo.md"] = "---\ntitle: 错字\n---\n有人把它写成 Cluade。"
    return notes


def test_a_latin_typo_is_searched_as_the_common_word_too(tmp_path: Path) -> None:
    ix = index_of(tmp_path, claude_notes())
    results = ix.search("Cluade")
    assert results.corrected == {"cluade": "claude"}
    assert results.corrected_query == "claude"
    assert results.total == 46 and "typo.md" in {hit.path for hit in ix.search("Cluade", limit=50)}
    assert results.to_dict()["corrected"] == {"cluade": "claude"}
    assert ix.search("Claude").corrected == {}
    assert ix.search("Claudx 代码").corrected_query == "claude 代码"


def test_two_words_run_together_are_searched_apart(tmp_path: Path) -> None:
    ix = index_of(tmp_path, claude_notes())
    results = ix.search("ClaudeCode")
    assert results.corrected == {"claudecode": "claude code"}
    assert [hit.path for hit in results] == ["code.md"]


def test_a_rare_word_keeps_its_own_documents_first(tmp_path: Path) -> None:
    notes = claude_notes()
    notes["clause.md"] = "---\ntitle: 合同\n---\n这一条 clause 很重要。"
    for i in range(3):
        notes[f"claim{i}.md"] = f"---\ntitle: 声明 {i}\n---\n一条 claim。"
    ix = index_of(tmp_path, notes)
    results = ix.search("clause")
    assert results.corrected == {"clause": "claude"} and results.hits[0].path == "clause.md"
    assert ix.search("claim").corrected == {}  # in 3 notes: not rare enough beside claude's 45


def test_taiwan_words_find_their_mainland_form(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "ai.md": "---\ntitle: 发展\n---\n人工智能的发展很快。",
            "code.md": "---\ntitle: 写代码\n---\n人工智能写程序，程序员看网络。",
            "folder.md": "---\ntitle: 整理\n---\n文件夹里的笔记。",
            "docs.md": "---\ntitle: 文档\n---\n文档夹是另一个词。",
        },
    )
    hit = ix.search("人工智慧").hits[0]
    assert hit.path == "ai.md" and "<mark>人工智能</mark>" in hit.snippet
    assert {hit.path for hit in ix.search("人工智慧")} == {"ai.md", "code.md"}
    explained = ix.explain("人工智慧", "ai.md")  # found through its mainland form, and said so
    assert explained.match == "all" and explained.missing == ()
    assert any(c.note == "人工智能, for 人工智慧" for c in explained.contributions)
    assert [hit.path for hit in ix.search("程式")] == ["code.md"]
    keywords = ix.search("人工智慧 程式 網路")  # three words: their forms do not make it a sentence
    assert keywords.match == "all" and [hit.path for hit in keywords] == ["code.md"]
    # a Simplified word is not taken for Taiwan usage when it finds its own documents
    assert [hit.path for hit in ix.search("文件夹")] == ["folder.md"]


def test_link_lists_count_little_and_are_quoted_last(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "body.md": "---\ntitle: 笔记\n---\n## 摘要\n\n关于检索。\n\n## 正文\n\n向量数据库的选型。",
            "links.md": "---\ntitle: 另一篇\n---\n## 摘要\n\n关于排序。\n\n## 相关文档\n\n"
            "- [[a|向量数据库入门]]；关联理由：上下游；说明：向量数据库。\n",
            "both.md": "---\ntitle: 第三篇\n---\n## 摘要\n\n向量数据库很常用。\n\n## 相关文档\n\n"
            "- [[b|向量数据库对比]]；关联理由：延伸；\n",
        },
    )
    hits = {hit.path: hit for hit in ix.search("向量数据库")}
    assert list(hits)[-1] == "links.md"
    assert "关联理由" not in hits["both.md"].snippet
    assert "关联理由" in hits["links.md"].snippet  # nothing else to quote
    assert "links" in {c.field for c in ix.explain("向量数据库", "links.md").contributions}


TAGGED_TTS = "\n\n## 关联主题\n\n- [[00-元语/tts]]\n"


def test_a_topic_query_lifts_the_notes_tagged_with_it(tmp_path: Path) -> None:
    ix = index_of(
        tmp_path,
        {
            "00-元语/tts.md": "---\ntitle: tts\n---\n## 定义\n\ntts 指文本转语音，把文本合成为可播放的语音。",
            "piper.md": "---\ntitle: Piper\n---\n离线的语音引擎，把文字合成为语音。" + TAGGED_TTS,
            "kokoro.md": "---\ntitle: Kokoro\n---\n开源模型，合成语音。" + TAGGED_TTS,
            "cosy.md": "---\ntitle: CosyVoice\n---\n一个开源项目。" + TAGGED_TTS,  # none of the words
            "chat.md": "---\ntitle: 闲聊\n---\n语音消息里，合成这个词，语音这个词，文本这个词。" * 2,
            **FILLER,  # a tag on half the vault would say little
        },
    )
    paths = [hit.path for hit in ix.search("语音合成")]
    assert paths.index("piper.md") < paths.index("chat.md") and paths.index("kokoro.md") < paths.index("chat.md")
    results = ix.search("语音合成")
    assert results.topic == "tts" and results.match == "partial" and "cosy.md" in paths
    # a phrase, a filter or an exclusion says which documents: the topic only lifts them
    for query in ('"语音"', "语音合成 path:piper", "语音合成 -Kokoro"):
        assert "cosy.md" not in {hit.path for hit in ix.search(query)}, query
    assert [hit.path for hit in ix.search("语音合成 path:piper")] == ["piper.md"]
    notes = {c.note for c in ix.explain("语音合成", "piper.md").contributions}
    assert any(note and note.startswith("topic") for note in notes)


def test_a_question_finds_something_in_a_one_document_index(tmp_path: Path) -> None:
    ix = index_of(tmp_path, {"only.md": "---\ntitle: 工具\n---\n一个开源的大模型工具。"})
    results = ix.search("有没有可以在本地运行大模型的开源工具")
    assert [hit.path for hit in results] == ["only.md"] and results.match == "partial"
