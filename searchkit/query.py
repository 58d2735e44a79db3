"""The query language: words, "phrases", OR, -word/NOT, parentheses.

Words separated by spaces must all match; `"quoted text"` (also “…” and 「…」) is a
phrase; `OR` between words; `-word` or `NOT word` excludes; parentheses group.
`parse_query` turns a query into a small tree; `search.py` decides what it means.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from .errors import OptionError, QueryError

_QUOTES = {'"': '"”', "“": "”\"", "”": "”\"", "「": "」", "『": "』"}
_SPECIAL = set(_QUOTES) | {"(", ")"}


@dataclass(frozen=True, slots=True)
class Word:
    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str


@dataclass(frozen=True, slots=True)
class DateRange:
    """The ISO dates a `date:` filter accepts. An inclusive upper bound and an
    exclusive lower one compare at the bound's own length (`<=2023-11` admits
    2023-11-30, `>2024-07` starts at 2024-08-01); `>=` and `<` compare whole dates."""

    low: str = ""
    high: str = ""
    low_exclusive: bool = False
    high_exclusive: bool = False

    def accepts(self, date: str) -> bool:
        if self.low:
            if self.low_exclusive and not date[: len(self.low)] > self.low:
                return False
            if not self.low_exclusive and not date >= self.low:
                return False
        if self.high:
            if self.high_exclusive and not date < self.high:
                return False
            if not self.high_exclusive and not date[: len(self.high)] <= self.high:
                return False
        return True


@dataclass(frozen=True, slots=True)
class Filter:
    """`field:value`: restricts the results without counting towards their score."""

    field: str
    value: str
    dates: DateRange | None = None  # for date:


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Any_:
    items: tuple[Node, ...]


Node = Word | Phrase | Filter | Not | All | Any_


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # word, phrase, (, ), OR, AND, NOT, -
    text: str
    position: int


def _lex(query: str) -> list[_Lexeme]:
    lexemes = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in _QUOTES:
            close = _closing_quote(query, i)
            lexemes.append(_Lexeme("phrase", query[i + 1 : close], i))
            i = close + 1
        elif char in "()":
            lexemes.append(_Lexeme(char, char, i))
            i += 1
        elif char == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != "-":
            lexemes.append(_Lexeme("-", char, i))
            i += 1
        elif (field := _FIELD_PREFIX.match(query, i)) and _is_filter(query, field):
            name = field.group(1).lower()
            i = field.end()
            if i < n and query[i] in _QUOTES:
                close = _closing_quote(query, i)
                value, i = query[i + 1 : close], close + 1
            else:
                start = i
                while i < n and not query[i].isspace() and query[i] not in "()":
                    i += 1
                value = query[start:i]
            if name not in FILTER_FIELDS:
                known = ", ".join(f"{f}:" for f in FILTER_FIELDS)
                raise QueryError(query, f"unknown field {name!r}; use one of {known}", field.start())
            if not value.strip():
                raise QueryError(query, f"{name}: needs a value, e.g. {FILTER_EXAMPLES[name]}", field.start())
            lexemes.append(_Lexeme("filter", f"{name}:{value.strip()}", field.start()))
            if name == "date":
                parse_dates(value, query, field.start())
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
                i += 1
            text = query[start:i]
            kind = text if text in ("OR", "AND", "NOT") else "word"
            lexemes.append(_Lexeme(kind, text, start))
    return lexemes


def _closing_quote(query: str, opening: int) -> int:
    """Where the quote opened at `opening` closes (“ may close with " and back)."""
    found = [query.find(c, opening + 1) for c in _QUOTES[query[opening]]]
    close = min((position for position in found if position != -1), default=-1)
    if close == -1:
        raise QueryError(query, "unclosed quote; close it or remove it", opening)
    return close


FILTER_FIELDS = ("tag", "title", "author", "source", "path", "date")
FILTER_EXAMPLES = {
    "tag": "tag:AI",
    "title": "title:罢工",
    "author": "author:宝玉",
    "source": "source:微信公众号",
    "path": "path:01-博客/",
    "date": "date:2024-07",
}
_FIELD_PREFIX = re.compile(r"([A-Za-z]+):")


def _is_filter(query: str, field: re.Match[str]) -> bool:
    """`name:value` is a filter when the name is a known field, or looks like one
    (letters, then a value that is not `//...`: `https://...` stays text)."""
    if field.start() > 0 and not (query[field.start() - 1].isspace() or query[field.start() - 1] in "(-"):
        return False
    rest = query[field.end() : field.end() + 2]
    looks_like_a_value = bool(rest) and not rest.startswith("/") and not rest[0].isspace()
    return field.group(1).lower() in FILTER_FIELDS or looks_like_a_value


# Deeper queries are a typo or an attack; each level costs a few Python frames.
MAX_NESTING = 32


def _paired(lexemes: list[_Lexeme]) -> list[_Lexeme]:
    """A closing parenthesis that closes nothing, and a pair with nothing inside, are
    text (pasted `1)`, `print()`); an opening one left open is still an error (the
    grouping a user began matters: `a (b OR c`)."""
    opened: list[int] = []
    unpaired: set[int] = set()
    for i, lexeme in enumerate(lexemes):
        if lexeme.kind == "(":
            opened.append(i)
        elif lexeme.kind == ")":
            if not opened:
                unpaired.add(i)
            elif opened[-1] == i - 1:  # ()
                unpaired.update((opened.pop(), i))
            else:
                opened.pop()
    return [_Lexeme("word", x.text, x.position) if i in unpaired else x for i, x in enumerate(lexemes)]


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexemes = _paired(_lex(query))
        self.index = 0
        self.depth = 0  # parentheses, NOT and - open around the current lexeme

    def parse(self) -> Node:
        if not self.lexemes:
            raise QueryError(self.query, "the query is empty; type some words to search for")
        node = self._any()
        if self.index < len(self.lexemes):
            extra = self.lexemes[self.index]
            raise QueryError(self.query, "unmatched closing parenthesis", extra.position)
        return node

    def _peek(self) -> _Lexeme | None:
        return self.lexemes[self.index] if self.index < len(self.lexemes) else None

    def _any(self) -> Node:
        items = [self._all()]
        while (lexeme := self._peek()) is not None and lexeme.kind == "OR":
            self.index += 1
            following = self._peek()
            if following is None or following.kind in (")", "OR"):
                raise QueryError(self.query, "OR needs a word after it", lexeme.position)
            items.append(self._all())
        return items[0] if len(items) == 1 else Any_(tuple(items))

    def _all(self) -> Node:
        items: list[Node] = []
        while (lexeme := self._peek()) is not None and lexeme.kind not in (")", "OR"):
            if lexeme.kind == "AND":
                self.index += 1
                if not items or self._peek() is None or self._peek().kind in (")", "OR"):  # type: ignore[union-attr]
                    raise QueryError(self.query, "AND needs a word on both sides", lexeme.position)
                continue
            items.append(self._unary())
        if not items:
            lexeme = self._peek()
            if lexeme is not None and lexeme.kind == "OR":
                raise QueryError(self.query, "OR needs a word before it", lexeme.position)
            position = lexeme.position if lexeme else len(self.query)
            raise QueryError(self.query, "expected a word here", position)
        return items[0] if len(items) == 1 else All(tuple(items))

    def _unary(self) -> Node:
        lexeme = self._peek()
        assert lexeme is not None
        if lexeme.kind in ("NOT", "-", "("):
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise QueryError(
                    self.query,
                    f"nested more than {MAX_NESTING} levels deep (parentheses, NOT, -); write it flatter",
                    lexeme.position,
                )
            try:
                return self._nested(lexeme)
            finally:
                self.depth -= 1
        self.index += 1
        if lexeme.kind == "phrase":
            return Phrase(lexeme.text)
        if lexeme.kind == "filter":
            name, _, value = lexeme.text.partition(":")
            return Filter(name, value, parse_dates(value, self.query, lexeme.position) if name == "date" else None)
        return Word(lexeme.text)

    def _nested(self, lexeme: _Lexeme) -> Node:
        if lexeme.kind in ("NOT", "-"):
            self.index += 1
            following = self._peek()
            if following is None or following.kind in (")", "OR", "AND"):
                raise QueryError(
                    self.query, f"{lexeme.text} needs a word after it", lexeme.position
                )
            return Not(self._unary())
        self.index += 1
        if (following := self._peek()) is not None and following.kind == ")":
            raise QueryError(self.query, "empty parentheses", lexeme.position)
        node = self._any()
        closing = self._peek()
        if closing is None or closing.kind != ")":
            raise QueryError(self.query, "unclosed parenthesis; add ')'", lexeme.position)
        self.index += 1
        return node


_DATE_VALUE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def parse_dates(spec: str, query: str, position: int | None = None) -> DateRange:
    """A `date:` value: 2024, 2024-07, 2024-07-01, 2023-05..2023-11 (inclusive;
    either end may be left open), >=, >, <=, <."""
    spec = spec.strip()
    for operator in (">=", "<=", ">", "<"):
        if spec.startswith(operator):
            bound = _date_bound(spec[len(operator) :], spec, query, position)
            if operator[0] == ">":
                return DateRange(low=bound, low_exclusive=operator == ">")
            return DateRange(high=bound, high_exclusive=operator == "<")
    if ".." in spec:
        low_text, high_text = spec.split("..", 1)
        low = _date_bound(low_text, spec, query, position) if low_text else ""
        high = _date_bound(high_text, spec, query, position) if high_text else ""
        shared = min(len(low), len(high))
        if low and high and low[:shared] > high[:shared]:
            raise QueryError(query, f"the range {spec!r} ends before it starts; write {high}..{low}", position)
        return DateRange(low=low, high=high)
    bound = _date_bound(spec, spec, query, position)
    return DateRange(low=bound, high=bound)


def _date_bound(text: str, spec: str, query: str, position: int | None) -> str:
    text = text.strip()
    valid = bool(_DATE_VALUE.match(text))
    if valid:
        year, month, day = ([int(p) for p in text.split("-")] + [1, 1])[:3]
        try:
            datetime.date(year, month, day)  # a day the calendar has: not 2024-02-30
        except ValueError:
            valid = False
    if not valid:
        raise QueryError(
            query,
            f"invalid date {spec!r}; use 2024, 2024-07, 2024-07-01, 2023-05..2023-11 or >=2024-01-01",
            position,
        )
    return text


SORTS = ("relevance", "date", "-date", "title")
FACETS = ("tag", "source", "author", "year")


def check_options(query: str, *, limit: int, offset: int, sort: str, facets: tuple[str, ...]) -> None:
    """What a search asks beside its query: a page (limit 0: only the total and
    facets), an order, facets."""
    if limit < 0:
        raise OptionError(query, "limit", "must be 0 (count only) or more")
    if offset < 0:
        raise OptionError(query, "offset", "must be 0 or more")
    if sort not in SORTS:
        raise OptionError(query, "sort", f"{sort!r} is not one of {', '.join(SORTS)}")
    unknown = [name for name in facets if name not in FACETS]
    if unknown:
        raise OptionError(query, "facets", f"unknown facet {unknown[0]!r}; use {', '.join(FACETS)}")


def parse_query(query: str, *, typing: bool = False) -> Node:
    """Parse the query language into a tree of Word, Phrase, Not, All and Any_. With
    `typing`, the query is still being typed: what it lacks only at its end is taken
    as given (`"大模型` as "大模型", `(a OR b` as (a OR b), `a OR` as a)."""
    query = clean_query(query)
    if not typing:
        return _Parser(query).parse()
    for _ in range(MAX_NESTING + 2):
        try:
            return _Parser(query).parse()
        except QueryError as error:
            finished = _finished(query, error)
            if finished is None:
                raise
            query = finished
    return _Parser(query).parse()


_CLOSING = {'"': '"', "“": "”", "”": "”", "「": "」", "『": "』"}
_LAST_OPERATOR = re.compile(r"(?:^|\s)(?:OR|AND|NOT|-|\()\s*$")


def _finished(query: str, error: QueryError) -> str | None:
    """`query` with the end it lacks (a closing quote or parenthesis) or without the
    operator it ends in; None when what is wrong is not at its end."""
    if error.hint.startswith("unclosed quote") and error.position is not None:
        return query + _CLOSING[query[error.position]]
    if error.hint.startswith("unclosed parenthesis"):
        return query + ")"
    operator = _LAST_OPERATOR.search(query)
    if operator is not None and query[: operator.start()].strip():
        return query[: operator.start()]
    return None


_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_query(query: str) -> str:
    """Drop control characters and lone surrogates (bytes a terminal in another
    encoding passed through undecoded); tabs and line breaks become spaces."""
    return _UNWANTED.sub("", query.replace("\t", " ").replace("\r", " ").replace("\n", " "))
