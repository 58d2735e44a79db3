"""Turn one Markdown file of a vault into a `Document`.

The only module that imports python-frontmatter and PyYAML. Every vault convention
(frontmatter key aliases, the `## 摘要` summary, `## 关联主题` wiki-link tags) lives here.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import frontmatter
import yaml

from .errors import DocumentError

DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt")

# Frontmatter keys per Document field, first match wins.
METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title", "标题"),
    "date": ("发布日期", "date", "日期"),
    "author": ("作者", "author"),
    "source": ("来源", "source"),
    "url": ("原文链接", "url", "link"),
}
SUMMARY_HEADINGS = {"摘要", "summary"}
TAG_HEADINGS = {"关联主题"}
DROPPED_HEADINGS = {"正文"}
# generated lists of links to other notes, with their reasons (…；关联理由：上下游；): a
# field of their own, scored low and quoted only when nothing else matches
LINK_HEADINGS = {"相关文档", "相关词条"}

# The fields of a Document the index searches (what a hit shows and what sorting needs
# are declared by the records of records.py):
# searchable text, each scored on its own; `byline` is the author and the source
TEXT_FIELDS = ("title", "tags", "summary", "body", "byline", "links")
KEYWORD_FIELDS = ("tag", "author", "source")  # exact-value filters: tag:AI author:宝玉

_HEADING_2 = re.compile(r"^##[ \t]+(.+?)[ \t#]*$")
_HEADING_1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_WIKI_LINK = re.compile(r"\[\[([^\]\|#]+)(?:#[^\]\|]*)?(?:\|([^\]]*))?\]\]")
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


@dataclass(frozen=True, slots=True)
class Document:
    """What searchkit knows about one file: metadata, summary, body and tags.

    `path` is relative to the indexed folder, with `/` separators. `summary` and
    `body` are plain text (Markdown markup removed), the text that snippets quote.
    """

    path: str
    title: str
    date: str | None = None
    author: str | None = None
    source: str | None = None
    url: str | None = None
    summary: str = ""
    body: str = ""
    links: str = ""  # the `## 相关文档` lists
    tags: tuple[str, ...] = ()
    # the full wiki-link targets of the tags (00-元语/AI), for `tag:00-元语/AI`
    tag_links: tuple[str, ...] = ()
    # names this document teaches the dictionary: tags, wiki-link targets, 对象, a short title
    keywords: tuple[str, ...] = ()

    def text_of(self, name: str) -> str:
        """The text of one of TEXT_FIELDS (tags one per line)."""
        if name == "tags":
            return "\n".join(self.tags)
        if name == "byline":
            return "\n".join(value for value in (self.author, self.source) if value)
        return str(getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["tag_links"] = list(self.tag_links)
        data["keywords"] = list(self.keywords)
        return data


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A document together with a warning about how it was read, if any, and its
    Markdown as the parser read it (without the frontmatter)."""

    document: Document
    warning: str | None = None
    markdown: str = ""


def is_document_file(name: str) -> bool:
    return name.lower().endswith(DOCUMENT_SUFFIXES) and not name.startswith(".")


def relative_path(path: Path, root: Path) -> str:
    return PurePosixPath(*path.relative_to(root).parts).as_posix()


def decode_bytes(raw: bytes) -> tuple[str, str | None]:
    """Decode a file's bytes: UTF-8 (with or without BOM), else GB18030.

    Returns the text and a warning when a fallback encoding was used.
    Raises ValueError when the bytes are not text.
    """
    if b"\x00" in raw[:8192]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return raw.decode("gb18030"), "not UTF-8; read as GB18030"
    except UnicodeDecodeError:
        raise ValueError(
            f"not valid UTF-8 (byte {utf8_error.start}) nor GB18030; save it as UTF-8"
        ) from None


def read_undecoded(text: str) -> tuple[str, bool]:
    """Text that reached Python with bytes of another encoding in it (lone surrogates,
    as file names and command-line arguments are decoded), read as `decode_bytes`
    reads a file: GB18030 when it is that (True), else with those bytes replaced."""
    raw = text.encode("utf-8", "surrogateescape")
    try:
        decoded, fallback = decode_bytes(raw)
    except ValueError:
        return raw.decode("utf-8", "replace"), False
    return decoded, fallback is not None


def load_document(path: str | Path, root: str | Path | None = None) -> Document:
    """Read one file into a Document.

    >>> doc = load_document("seeds/000_28b585b5f431fa5d.txt", root="seeds")
    >>> doc.title[:7]
    '詹姆斯 · 卡梅'
    """
    return read_document(Path(path), Path(root) if root is not None else None).document


def read_document(path: Path, root: Path | None = None) -> LoadedDocument:
    rel = relative_path(path, root) if root is not None else path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(rel, f"cannot read: {exc.strerror or exc}") from exc
    try:
        text, warning = decode_bytes(raw)
    except ValueError as exc:
        raise DocumentError(rel, str(exc)) from None
    document, parse_warning, markdown = _parse(text, rel)
    return LoadedDocument(document, warning or parse_warning, markdown)


def parse_document(text: str, path: str) -> tuple[Document, str | None]:
    """Parse Markdown text into a Document; broken frontmatter leaves it plain text."""
    document, warning, _ = _parse(text, path)
    return document, warning


def _parse(text: str, path: str) -> tuple[Document, str | None, str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    warning = None
    try:
        post = frontmatter.loads(text)
        metadata = post.metadata if isinstance(post.metadata, dict) else {}
        content = post.content
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warning = f"broken frontmatter, indexed as plain text ({first_line})"
        metadata, content = {}, text

    first_heading, summary_md, body_md, tag_md, links_md = split_sections(content)
    title = _text_value(_first(metadata, "title")) or first_heading or PurePosixPath(path).stem
    tags = _unique(_wiki_link_tags(tag_md) + _frontmatter_tags(metadata.get("tags")))
    document = Document(
        path=path,
        title=title.strip(),
        date=_date_value(_first(metadata, "date")),
        author=_text_value(_first(metadata, "author")),
        source=_text_value(_first(metadata, "source")),
        url=_text_value(_first(metadata, "url")),
        summary=markdown_to_text(summary_md),
        body=markdown_to_text(body_md),
        links=markdown_to_text(links_md),
        tags=tuple(tags),
        tag_links=tuple(_unique([m.group(1).strip() for m in _WIKI_LINK.finditer(tag_md)])),
        keywords=tuple(_keywords(title.strip(), tags, content, metadata)),
    )
    return document, warning, content


def split_sections(content: str) -> tuple[str | None, str, str, str, str]:
    """Split Markdown into (first `#` heading, summary, body, tag section, link lists).

    `##` headings of other sections stay in the body as text; headings inside
    fenced code blocks are not headings. Under `## 关联主题` only the wiki-links are
    tags: its other lines (a note appended at the bottom) are body text too.
    """
    first_heading = None
    parts: dict[str, list[str]] = {"summary": [], "body": [], "tags": [], "links": []}
    current = "body"
    in_fence = False
    for line in content.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            heading = _HEADING_2.match(line)
            if heading:
                name = heading.group(1).strip().strip("*").strip()
                if name in SUMMARY_HEADINGS:
                    current = "summary"
                    continue
                if name in TAG_HEADINGS:
                    current = "tags"
                    continue
                if name in LINK_HEADINGS:
                    current = "links"
                    continue
                current = "body"
                if name in DROPPED_HEADINGS:
                    continue
            elif first_heading is None:
                top = _HEADING_1.match(line)
                if top:
                    first_heading = top.group(1).strip()
        parts[current].append(line)
        if current == "tags" and (in_fence or _is_prose(line)):
            parts["body"].append(line)
    return (
        first_heading,
        "\n".join(parts["summary"]),
        "\n".join(parts["body"]),
        "\n".join(parts["tags"]),
        "\n".join(parts["links"]),
    )


_BULLET = re.compile(r"^[ \t]*(?:[*+-]|\d+[.)])[ \t]+")


def _is_prose(line: str) -> bool:
    """A line that says something beyond a list of wiki-links."""
    return bool(re.search(r"\w", _BULLET.sub("", _WIKI_LINK.sub("", line))))


def _link_text(match: re.Match[str]) -> str:
    """What a reader sees of [[folder/note|alias]]: the alias, else the note's name."""
    alias = (match.group(2) or "").strip()
    return alias or match.group(1).strip().rsplit("/", 1)[-1]


_MARKDOWN_RULES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # images: keep alt text
    (re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # links: keep the words
    (re.compile(r"\[\[([^\]\|\n]+?)(?:\|([^\]\n]*))?\]\]"), lambda m: _link_text(m)),  # wiki-links
    (re.compile(r"</?[A-Za-z][^>\n]*>"), ""),  # inline HTML tags
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.M), ""),  # heading marks
    (re.compile(r"^[ \t]*>[ \t]?", re.M), ""),  # block quotes
    (re.compile(r"^[ \t]*(?:[*+-]|\d+[.)])[ \t]+", re.M), ""),  # list bullets
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"\n{3,}"), "\n\n"),
]


def _keep_fenced_blocks(text: str, keep: Callable[[str], str]) -> str:
    """Each fenced block's lines replaced by `keep` of them (fence lines dropped)."""
    lines: list[str] = []
    block: list[str] | None = None  # the lines of the open block
    for line in text.split("\n"):
        if _FENCE.match(line):
            if block is None:
                block = []
            else:
                lines.append(keep("\n".join(block)))
                block = None
        elif block is not None:
            block.append(line)
        else:
            lines.append(line)
    if block is not None:  # a fence never closed runs to the end
        lines.append(keep("\n".join(block)))
    return "\n".join(lines)


_INLINE_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def markdown_to_text(markdown: str) -> str:
    """Strip Markdown markup a reader should not see in a snippet. Code (fenced
    blocks without their fence lines, and inline spans) is kept verbatim."""
    code: list[str] = []

    def keep(text: str) -> str:
        code.append(text)
        return f"\x00{len(code) - 1}\x00"

    text = markdown.replace("\x00", "")
    if "```" in text or "~~~" in text:
        text = _keep_fenced_blocks(text, keep)
    if "`" in text:
        text = _INLINE_CODE.sub(lambda m: keep(m.group(0)), text)
    for pattern, replacement in _MARKDOWN_RULES:
        text = pattern.sub(replacement, text)
    return _PLACEHOLDER.sub(lambda m: code[int(m.group(1))], text).strip()


_SHORT_TITLE_BREAKS = re.compile(r"[。！？，,：:!?|｜、；;（）()《》“”\"]")
_BACKTICKED = re.compile(r"`([^`\n]+)`")
KEYWORD_MAX_CHARS = 40
TITLE_KEYWORD_MAX_CHARS = 20


def _keywords(title: str, tags: list[str], content: str, metadata: dict[str, Any]) -> list[str]:
    """Names worth keeping whole when segmenting: tags, wiki-link targets, the
    backticked names in `对象`, and the title when it is a short name."""
    words = list(tags) + [w for w in _wiki_link_tags(content) if _is_name(w)]
    subject = metadata.get("对象")
    if subject is not None:
        for name in _BACKTICKED.findall(str(subject)):
            words.append(name)
            if "/" in name:
                words.append(name.rsplit("/", 1)[-1])
    if _is_name(title):
        words.append(title)
    return [w for w in _unique([w.strip() for w in words]) if 2 <= len(w) <= KEYWORD_MAX_CHARS]


def _is_name(text: str) -> bool:
    """A short phrase without sentence punctuation: a name, not a headline."""
    return len(text) <= TITLE_KEYWORD_MAX_CHARS and not _SHORT_TITLE_BREAKS.search(text)


def _first(metadata: dict[str, Any], field: str) -> Any:
    for key in METADATA_KEYS[field]:
        value = metadata.get(key)
        if value not in (None, "", []):
            return value
    return None


def _text_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value if v is not None) or None
    return str(value).strip() or None


def _date_value(value: Any) -> str | None:
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if value is None:
        return None
    match = _DATE.match(str(value))
    if not match:
        return None
    try:
        return _dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None


def _wiki_link_tags(markdown: str) -> list[str]:
    tags = []
    for match in _WIKI_LINK.finditer(markdown):
        target = match.group(1).strip()
        name = target.rsplit("/", 1)[-1]
        if name.lower().endswith(".md"):
            name = name[:-3]
        if name:
            tags.append(name)
    return tags


def _frontmatter_tags(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,，\s]+", str(value))
    return [str(item).strip().lstrip("#") for item in items if str(item).strip().lstrip("#")]


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out
