from __future__ import annotations

from pathlib import Path

import pytest

from searchkit import DocumentError, load_document
from searchkit.documents import parse_document, read_document

from .conftest import FIXTURE_VAULT, SEED, write


def test_seed_fields() -> None:
    doc = load_document(FIXTURE_VAULT / SEED, root=FIXTURE_VAULT)
    assert doc.path == SEED
    assert doc.title == "詹姆斯 · 卡梅隆官宣加入Stability AI，好莱坞要向AI投降了。"
    assert doc.date == "2024-09-25"
    assert doc.author == "数字生命卡兹克"
    assert doc.source == "微信公众号"
    assert doc.url and doc.url.startswith("https://mp.weixin.qq.com/")
    assert doc.tags == ("数字生命卡兹克", "AI", "llm")
    assert doc.summary.startswith("一句话总结")  # bold and list markers stripped
    assert "卡梅隆加入Stability AI" in doc.summary
    assert "深夜" in doc.body
    assert "关联主题" not in doc.body and "[[" not in doc.body
    assert "mmbiz.qpic.cn" not in doc.body  # image links are not text


def test_title_falls_back_to_heading_then_file_name(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "intro\n# 标题一\n正文")
    write(tmp_path / "笔记.md", "只有正文")
    assert load_document(tmp_path / "a.md", tmp_path).title == "标题一"
    assert load_document(tmp_path / "笔记.md", tmp_path).title == "笔记"


def test_date_forms_are_normalised() -> None:
    for value, expected in [
        ("2024-09-25", "2024-09-25"),
        ("'2024-9-5'", "2024-09-05"),
        ("2024年9月5日", "2024-09-05"),
        ("2024-09-25T10:00:00Z", "2024-09-25"),
        ("sometime", None),
    ]:
        doc, _ = parse_document(f"---\n发布日期: {value}\n---\n正文", "x.md")
        assert doc.date == expected, value


def test_frontmatter_tags_merge_with_wiki_links() -> None:
    text = "---\ntags: [AI, 笔记]\n---\n正文\n## 关联主题\n- [[00-元语/AI]]\n- [[00-元语/Claude Code|CC]]\n"
    doc, _ = parse_document(text, "x.md")
    assert doc.tags == ("Claude Code", "AI", "笔记") or set(doc.tags) == {"AI", "Claude Code", "笔记"}


def test_broken_frontmatter_is_indexed_as_text_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.md", '---\ntitle: "unclosed\n---\n罢工的正文')
    loaded = read_document(path, tmp_path)
    assert loaded.warning and "frontmatter" in loaded.warning
    assert "罢工的正文" in loaded.document.body


def test_impossible_date_in_frontmatter_is_not_fatal() -> None:
    doc, warning = parse_document("---\n发布日期: 2023-13-45\n---\n正文", "x.md")
    assert "正文" in doc.body and warning


def test_bom_crlf_and_gb18030(tmp_path: Path) -> None:
    bom = tmp_path / "bom.md"
    bom.write_bytes(b"\xef\xbb\xbf" + "---\r\ntitle: 有BOM\r\n---\r\n正文\r\n".encode())
    assert load_document(bom, tmp_path).title == "有BOM"
    gbk = write(tmp_path / "gbk.md", "---\ntitle: 中文编码\n---\n好莱坞罢工", encoding="gb18030")
    loaded = read_document(gbk, tmp_path)
    assert loaded.document.title == "中文编码"
    assert loaded.warning and "GB18030" in loaded.warning


def test_binary_file_raises_document_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.md"
    path.write_bytes(b"\x89PNG\x00\x00\x01")
    with pytest.raises(DocumentError) as info:
        load_document(path, tmp_path)
    assert info.value.path == "bin.md"
    assert "binary" in info.value.reason


def test_headings_inside_code_fences_are_not_sections() -> None:
    text = "## 摘要\n摘要文字\n## 正文\n```\n## 关联主题\n```\n正文文字"
    doc, _ = parse_document(text, "x.md")
    assert doc.summary == "摘要文字"
    assert "正文文字" in doc.body and "关联主题" in doc.body
