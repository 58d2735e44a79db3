"""Text analysis: normalise and segment text into tokens with true offsets.

The only module that imports a segmenter. Han runs go to jieba's algorithm (rjieba,
the Rust build, by default; jieba itself as the reference, `SEARCHKIT_SEGMENTER=jieba`);
Latin and digit runs are tokenised by our own rules so that both backends emit the
same tokens and `C++`, `GPT-4o` or `R` survive.

Invariants the rest of searchkit relies on:
- `normalize(text)` has the same length as `text`, so an offset into one is an
  offset into the other;
- token positions count words 0, 1, 2, ... (never characters); search-mode
  sub-words share the position of the word they are part of;
- `text[start:end]` of every token is the original surface form.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Bump whenever the tokens emitted for the same text change: old indexes must be rebuilt.
ANALYZER_VERSION = 3

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
WORD_CHAR_CLASS = rf"[^\W_{_HAN}]"
_JOINERS = r"[-._'’&]"
_TOKEN_RUN = re.compile(
    rf"(?P<han>[{_HAN}]+)|(?P<word>{WORD_CHAR_CLASS}+(?:{_JOINERS}{WORD_CHAR_CLASS}+)*(?:\+\+|\+|#)?)"
)
_WORD_PART = re.compile(rf"{WORD_CHAR_CLASS}+")

# Full-width ASCII forms and the ideographic space fold to ASCII (same length).
_WIDTH_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH_FOLD[0x3000] = 0x20
_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_NARROW = {chr(wide): chr(narrow) for wide, narrow in _WIDTH_FOLD.items()}


class Segmenter(Protocol):
    """A Chinese word segmenter with jieba's algorithm and dictionary."""

    name: str

    def tokenize(self, text: str, search: bool) -> list[tuple[str, int, int]]:
        """(word, start, end) for each word; with `search`, also the sub-words."""
        ...

    def add_word(self, word: str) -> None: ...


class RJiebaSegmenter:
    name = "rjieba"

    def __init__(self, fresh: bool = False) -> None:
        import rjieba

        # the module's own instance is built at import; a fresh one loads the dictionary again
        self._rjieba = rjieba.Jieba() if fresh else rjieba

    def tokenize(self, text: str, search: bool) -> list[tuple[str, int, int]]:
        return self._rjieba.tokenize(text, mode="search" if search else "default", hmm=True)

    def add_word(self, word: str) -> None:
        self._rjieba.add_word(word, None, None)


class JiebaSegmenter:
    """jieba itself: the reference implementation, slower to load and to cut."""

    name = "jieba"

    def __init__(self, fresh: bool = False) -> None:
        import jieba

        # jieba attaches a DEBUG handler to stderr; keep its start-up chatter quiet.
        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()

    def tokenize(self, text: str, search: bool) -> list[tuple[str, int, int]]:
        return list(self._tokenizer.tokenize(text, mode="search" if search else "default"))

    def add_word(self, word: str) -> None:
        self._tokenizer.add_word(word)


SEGMENTERS: dict[str, Any] = {"rjieba": RJiebaSegmenter, "jieba": JiebaSegmenter}
_shared_taken = False
_pool_lock = threading.Lock()


def new_segmenter() -> Segmenter:
    """A segmenter of its own for one analyzer (`SEARCHKIT_SEGMENTER` picks the kind).
    The first one in a process is rjieba's own instance, built at import; later ones
    are fresh (~0.1 s each), since words added to one must not leak into another."""
    global _shared_taken
    name = os.environ.get("SEARCHKIT_SEGMENTER", "rjieba")
    if name not in SEGMENTERS:
        raise ValueError(f"SEARCHKIT_SEGMENTER={name!r}; choose one of {sorted(SEGMENTERS)}")
    with _pool_lock:
        fresh, _shared_taken = _shared_taken, True
    segmenter: Segmenter = SEGMENTERS[name](fresh=fresh)
    return segmenter


# A longer Han "word" (a sentence-like title) would hide the words inside it.
MAX_HAN_WORD_CHARS = 8
MAX_ENTRY_TOKENS = 4


def _is_dictionary_han_word(word: str) -> bool:
    return is_han(word) and 2 <= len(word) <= MAX_HAN_WORD_CHARS


class Analyzer:
    """Segmentation with one dictionary in effect: each open index owns one.

    Han words of the dictionary join the segmenter's own dictionary (so
    `数字生命卡兹克` stays one word); words of several tokens, spaces or punctuation
    included (`Stability AI`, `Claude Code`), are recognised as one entry on top of
    their tokens.
    """

    def __init__(self, words: Iterable[str] = (), *, segmenter: Segmenter | None = None) -> None:
        self._segmenter = segmenter
        self._lock = threading.RLock()
        self.words: frozenset[str] = frozenset()
        # entries of several tokens ("stability ai") keyed by their first token; built on
        # first use, since cutting them may load the segmenter
        self._entries: dict[str, list[tuple[str, ...]]] | None = None
        self.set_words(words)

    @property
    def segmenter(self) -> Segmenter:
        """Loaded on first use: opening an index for a sync that cuts no text (or
        leaves that to worker processes) does not pay for it."""
        if self._segmenter is None:
            with self._lock:
                if self._segmenter is None:
                    self._segmenter = self._loaded(new_segmenter(), self.words)
        return self._segmenter

    @staticmethod
    def _loaded(segmenter: Segmenter, words: Iterable[str]) -> Segmenter:
        for word in words:
            if _is_dictionary_han_word(word):
                segmenter.add_word(word)
        return segmenter

    def set_words(self, words: Iterable[str]) -> None:
        """Make `words` the dictionary (a no-op when they already are)."""
        wanted = frozenset(w for w in (dictionary_form(word) for word in words) if w)
        with self._lock:
            if wanted == self.words:
                return
            if self._segmenter is not None:
                if wanted >= self.words:
                    self._loaded(self._segmenter, wanted - self.words)
                else:  # words can be added to a segmenter but not removed: start afresh
                    self._segmenter = None
            self.words = wanted
            self._entries = None

    @property
    def entries(self) -> dict[str, list[tuple[str, ...]]]:
        entries = self._entries
        if entries is None:
            with self._lock:
                entries = {}
                for word in self.words:
                    if not is_han(word):
                        tokens = tuple(t for t, _, _, _ in _plain_tokens(word, self._cut, query=True))
                        if 1 < len(tokens) <= MAX_ENTRY_TOKENS:
                            entries.setdefault(tokens[0], []).append(tokens)
                for candidates in entries.values():
                    candidates.sort(key=len, reverse=True)
                self._entries = entries
        return entries

    def find_entries(self, tokens: list[str]) -> list[tuple[int, int, str]]:
        """(index, length, entry) for each dictionary entry of several tokens that
        `tokens` spell out, e.g. ["stability", "ai"] → [(0, 2, "stability ai")]."""
        found = []
        entries = self.entries
        for index, token in enumerate(tokens):
            for entry in entries.get(token, ()):
                if tuple(tokens[index : index + len(entry)]) == entry:
                    found.append((index, len(entry), " ".join(entry)))
                    break
        return found

    def iter_tokens(self, text: str, *, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
        """Yield (token, position, start, end) for `text`.

        Index mode (the default) adds search-mode sub-words: the parts of long Han
        words and of joined Latin words (`gpt` and `4o` of `gpt-4o`), at their word's
        position, and dictionary entries of several tokens (`stability ai`) at their
        first token's. Query mode yields whole words only, so a query matches as the
        text was written.

        >>> [t[0] for t in Analyzer().iter_tokens("好莱坞编剧罢工 GPT-4o", query=True)]
        ['好莱坞', '编剧', '罢工', 'gpt-4o']
        """
        cut = self.segmenter.tokenize  # looked up once per text, not once per Han run
        if query or not self.entries:
            yield from _plain_tokens(text, cut, query=query)
            return
        tokens = list(_plain_tokens(text, cut, query=False))
        words: list[tuple[str, int, int, int]] = []  # one per position: the word itself
        for token in tokens:
            if token[1] == len(words):
                words.append(token)
        entries = [
            (entry, words[index][1], words[index][2], words[index + length - 1][3])
            for index, length, entry in self.find_entries([w[0] for w in words])
        ]
        if not entries:
            yield from tokens
            return
        entries.reverse()
        for token in tokens:
            while entries and entries[-1][1] < token[1]:
                yield entries.pop()
            yield token
        yield from reversed(entries)

    def _cut(self, text: str, search: bool) -> list[tuple[str, int, int]]:
        return self.segmenter.tokenize(text, search)

    def query_tokens(self, text: str) -> list[str]:
        """The tokens a query word stands for, in order."""
        return [token for token, _, _, _ in self.iter_tokens(text, query=True)]


def dictionary_form(word: str) -> str:
    """A word as the dictionary keeps it: normalised, spaces collapsed."""
    return " ".join(normalize(word).split())


_plain: Analyzer | None = None


def plain_analyzer() -> Analyzer:
    """An analyzer with no dictionary, for text outside any index."""
    global _plain
    if _plain is None:
        _plain = Analyzer()
    return _plain


def iter_tokens(text: str, *, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
    """`Analyzer.iter_tokens` without a dictionary."""
    return plain_analyzer().iter_tokens(text, query=query)


def query_tokens(text: str) -> list[str]:
    """`Analyzer.query_tokens` without a dictionary."""
    return plain_analyzer().query_tokens(text)


_folder: Any = None


def _traditional_folder() -> Any:
    global _folder
    if _folder is None:
        import opencc

        _folder = opencc.OpenCC("t2s", include_tofu_risk_dictionaries=False)
    return _folder


_mainland: list[Any] = []


def mainland_forms(text: str) -> list[str]:
    """`text` in mainland vocabulary where Taiwan or Hong Kong usage differs (OpenCC
    tw2sp and hk2s: 人工智慧 → 人工智能, 程式 → 程序, 網路 → 网络). Phrase conversion
    changes lengths, so it serves queries only; documents are folded character by
    character."""
    if not _has_han(text):
        return []
    if not _mainland:
        import opencc

        _mainland.extend(opencc.OpenCC(config) for config in ("tw2sp", "hk2s"))
    folded = _traditional_folder().convert(text)
    return [form for form in dict.fromkeys(c.convert(text) for c in _mainland) if form != folded]


def normalize(text: str) -> str:
    """Fold width, case and Traditional→Simplified; the result has `len(text)`.

    >>> normalize("ＡＰＩ與GPT")
    'api与gpt'
    """
    folded = text
    for wide in set(_WIDE.findall(text)):  # a few distinct ones: far faster than str.translate
        folded = folded.replace(wide, _NARROW[wide])
    lowered = folded.lower()
    if len(lowered) != len(folded):  # e.g. 'İ' lowers to two code points
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)
    if not _has_han(lowered):
        return lowered
    simplified = _traditional_folder().convert(lowered)
    return simplified if len(simplified) == len(lowered) else lowered


_HAN_CHAR = re.compile(rf"[{_HAN}]")


def _has_han(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


Cut = Callable[[str, bool], list[tuple[str, int, int]]]


def _plain_tokens(text: str, cut: Cut, *, query: bool) -> Iterator[tuple[str, int, int, int]]:
    normalized = normalize(text)
    position = -1
    for run in _TOKEN_RUN.finditer(normalized):
        run_start = run.start()
        if run.lastgroup == "han":
            words = cut(run.group(), not query)
            if query:
                for word, start, end in words:
                    position += 1
                    yield word, position, run_start + start, run_start + end
                continue
            words.sort(key=lambda w: (w[1], -w[2]))
            parent_end = -1
            for word, start, end in words:
                if end > parent_end:  # not inside the previous word: a word of its own
                    position += 1
                    parent_end = end
                yield word, position, run_start + start, run_start + end
        else:
            word = run.group()
            position += 1
            yield word, position, run_start, run.end()
            core = word.rstrip("+#")
            if not query and not core.isalnum():  # joined: gpt-4o, node.js, v1.2.3
                for part in _WORD_PART.finditer(core):
                    yield part.group(), position, run_start + part.start(), run_start + part.end()


_HAN_RUN = re.compile(rf"[{_HAN}]+")


def gram_positions(text: str) -> dict[str, list[int]]:
    """Every pair of adjacent Han characters in `text` with the offsets where it
    stands, and the last character of each Han run alone (so that a single character
    can be found by prefix), normalised. Offsets into `text` are offsets into its
    normalised form: a run of the query stands where its bigrams follow each other.

    >>> sorted(gram_positions("罢工潮。好").items())
    [('好', [4]), ('工潮', [1]), ('潮', [2]), ('罢工', [0])]
    """
    grams: dict[str, list[int]] = {}
    for run in _HAN_RUN.finditer(normalize(text)):
        chars, start = run.group(), run.start()
        for offset in range(len(chars) - 1):
            grams.setdefault(chars[offset : offset + 2], []).append(start + offset)
        grams.setdefault(chars[-1], []).append(start + len(chars) - 1)
    return grams


def substring_grams(text: str) -> list[str]:
    """The bigrams that all occur where `text` (a normalised Han string) occurs;
    a single character stands for itself."""
    if len(text) == 1:
        return [text]
    return [text[i : i + 2] for i in range(len(text) - 1)]


_COMPOUND = re.compile(rf"{WORD_CHAR_CLASS}+(?:{_JOINERS}{WORD_CHAR_CLASS}+)+")
COMPOUND_JOINERS = "-._"  # what may follow a compound that a longer one begins: gpt-5 → gpt-5.2


def compound_parts(token: str) -> list[str]:
    """The words of a joined Latin token (`claude-code` → claude, code), else []."""
    core = token.rstrip("+#")
    return [part.group() for part in _WORD_PART.finditer(core)] if _COMPOUND.fullmatch(core) else []


def is_han(text: str) -> bool:
    return _HAN_RUN.fullmatch(text) is not None


# Question words and particles: a question's answer rarely contains them, and long
# posts contain them all, so they neither veto a document nor carry much weight.
QUESTION_WORDS = frozenset(
    "什么 什么样 为什么 为何 怎么 怎样 怎么样 如何 哪 哪个 哪些 哪里 哪儿 哪一年 哪一位 哪一个 哪一种 哪种 哪年 哪位 "
    "何 何时 何年 何地 何处 何种 谁 多少 几 几个 多久 是否 有没有 是不是 能否 能不能 吗 呢 么 吧".split()
)
WEAK_WORDS = QUESTION_WORDS | frozenset(
    "的 了 是 在 有 和 与 及 或 也 都 还 就 被 把 对 于 为 由 从 而 之 其 所 以 等 着 过 "
    "这 那 这个 那个 一个 可以 能 会 要 将 让 里 中 上 下 时 后 前".split()
)
