"""Query parsing, ranking and result objects.

Query language: words separated by spaces must all match; `"quoted text"` (also
“…” and 「…」) is a phrase; `OR` between words; `-word` or `NOT word` excludes;
parentheses group. A word without spaces that segments into several words
(`好莱坞罢工`) means all of them, like `好莱坞 罢工`. When nothing matches every
word, the documents matching most of them are returned (`match == "partial"`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh import scoring

from .analysis import is_han, query_tokens, substring_grams
from .errors import QueryError
from .highlight import make_snippet

# Query-time weights per field: title, tags and summary count more than body.
FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "tags": 2.5, "summary": 1.5, "body": 1.0}
BM25_K1 = 1.2
BM25_B = 0.75
# A Han word found only as a substring (cut differently in the text, or part of a
# longer word) scores with this weight on the bigram field; word matches rank above.
SUBSTRING_WEIGHT = 0.5
GRAMS_FIELD = "grams"
# Coordination bonus for partial matches: documents with more of the words rank higher.
PARTIAL_COORD_SCALE = 0.9
# In a partial match, a word found in more than this share of documents (的, 是, AI in
# an AI vault) adds to the score but cannot make a document match on its own.
PARTIAL_COMMON_SHARE = 0.5

_QUOTES = {'"': '"”', "“": "”\"", "”": "”\"", "「": "」", "『": "』"}
_SPECIAL = set(_QUOTES) | {"(", ")"}


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching document, copied out of the index (no index object inside)."""

    path: str
    title: str
    score: float
    date: str | None = None
    tags: tuple[str, ...] = ()
    snippet: str = ""
    author: str | None = None
    source: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "title": self.title,
            "score": round(self.score, 4),
            "date": self.date,
            "tags": list(self.tags),
            "snippet": self.snippet,
        }


@dataclass(frozen=True, slots=True)
class SearchResults:
    """The hits for a query, best first. `total` counts every match, not just this page.

    `match` is "all" when every word matched, "partial" when no document had them
    all and the hits are the documents that match most of them.
    """

    query: str
    total: int
    match: str
    hits: tuple[Hit, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> Hit:
        return self.hits[index]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "match": self.match,
            "hits": [hit.to_dict() for hit in self.hits],
        }


# ---- parsing -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Any_:
    items: tuple[Node, ...]


Node = Word | Phrase | Not | All | Any_


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
            close = min(
                (query.find(c, i + 1) for c in _QUOTES[char] if query.find(c, i + 1) != -1),
                default=-1,
            )
            if close == -1:
                raise QueryError(query, "unclosed quote; close it or remove it", i)
            lexemes.append(_Lexeme("phrase", query[i + 1 : close], i))
            i = close + 1
        elif char in "()":
            lexemes.append(_Lexeme(char, char, i))
            i += 1
        elif char == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != "-":
            lexemes.append(_Lexeme("-", char, i))
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
                i += 1
            text = query[start:i]
            kind = text if text in ("OR", "AND", "NOT") else "word"
            lexemes.append(_Lexeme(kind, text, start))
    return lexemes


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexemes = _lex(query)
        self.index = 0

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
        if lexeme.kind in ("NOT", "-"):
            self.index += 1
            following = self._peek()
            if following is None or following.kind in (")", "OR", "AND"):
                raise QueryError(
                    self.query, f"{lexeme.text} needs a word after it", lexeme.position
                )
            return Not(self._unary())
        if lexeme.kind == "(":
            self.index += 1
            if (following := self._peek()) is not None and following.kind == ")":
                raise QueryError(self.query, "empty parentheses", lexeme.position)
            node = self._any()
            closing = self._peek()
            if closing is None or closing.kind != ")":
                raise QueryError(self.query, "unclosed parenthesis; add ')'", lexeme.position)
            self.index += 1
            return node
        self.index += 1
        if lexeme.kind == "phrase":
            return Phrase(lexeme.text)
        return Word(lexeme.text)


def parse_query(query: str) -> Node:
    """Parse the query language into a tree of Word, Phrase, Not, All and Any_."""
    return _Parser(query).parse()


# ---- compiling to Whoosh ------------------------------------------------------------


@dataclass
class CompiledQuery:
    """A parsed query as Whoosh queries: the strict one, and the parts of the
    partial fallback (positive units with their token, and the excluded ones)."""

    strict: wq.Query
    leaves: list[tuple[wq.Query, str | None]]
    negatives: list[wq.Query]
    terms: list[str]

    def partial(self, searcher: Any) -> wq.Query | None:
        """Documents matching some of the units, more of them ranking higher."""
        if len(self.leaves) < 2:
            return None
        limit = PARTIAL_COMMON_SHARE * max(searcher.doc_count(), 1)
        required, optional = [], []
        for leaf, token in self.leaves:
            common = token is not None and max(
                searcher.doc_frequency(name, token) for name in FIELD_WEIGHTS
            ) > limit
            (optional if common else required).append(leaf)
        if not required:
            return None
        query: wq.Query = wq.Or(required, scale=PARTIAL_COORD_SCALE)
        if optional:
            query = wq.AndMaybe(query, wq.Or(optional))
        if self.negatives:
            query = wq.AndNot(query, wq.Or(self.negatives))
        return query


def _term_query(token: str) -> wq.Query:
    words = [wq.Term(name, token, boost=weight) for name, weight in FIELD_WEIGHTS.items()]
    if is_han(token):
        words.append(_substring_query(token))
    return wq.Or(words)


def _substring_query(token: str) -> wq.Query:
    if len(token) == 1:
        # every bigram starting with the character, and the character at a run's end
        return wq.Prefix(GRAMS_FIELD, token, boost=SUBSTRING_WEIGHT)
    grams = [wq.Term(GRAMS_FIELD, gram, boost=SUBSTRING_WEIGHT) for gram in substring_grams(token)]
    return grams[0] if len(grams) == 1 else wq.And(grams)


def _phrase_query(tokens: list[str]) -> wq.Query:
    if len(tokens) == 1:
        return _term_query(tokens[0])
    return wq.Or(
        [wq.Phrase(name, tokens, boost=weight) for name, weight in FIELD_WEIGHTS.items()]
    )


class _Compiler:
    def __init__(self, query: str) -> None:
        self.query = query
        self.terms: list[str] = []
        # positive units for the partial fallback, with their token (None for a phrase)
        self.leaves: list[tuple[wq.Query, str | None]] = []
        self.negatives: list[wq.Query] = []

    def compile(self, node: Node, negated: bool = False) -> wq.Query | None:
        if isinstance(node, Word | Phrase):
            tokens = query_tokens(node.text)
            if not tokens:
                return None
            if isinstance(node, Phrase):
                compiled = _phrase_query(tokens)
                if not negated:
                    self.leaves.append((compiled, None))
            else:
                units = [_term_query(token) for token in tokens]
                if not negated:
                    self.leaves.extend(zip(units, tokens, strict=True))
                compiled = units[0] if len(units) == 1 else wq.And(units)
            if not negated:
                self.terms.extend(tokens)
            return compiled
        if isinstance(node, Not):
            inner = self.compile(node.operand, negated=not negated)
            return None if inner is None else wq.Not(inner)
        children = [self.compile(item, negated) for item in node.items]
        present = [child for child in children if child is not None]
        if not present:
            return None
        if isinstance(node, Any_):
            return present[0] if len(present) == 1 else wq.Or(present)
        positives = [c for c in present if not isinstance(c, wq.Not)]
        excluded = [c.query for c in present if isinstance(c, wq.Not)]
        if not positives:
            raise QueryError(
                self.query, "only excluded words; add a word to search for", None
            )
        if not negated:
            self.negatives.extend(excluded)
        combined = positives[0] if len(positives) == 1 else wq.And(positives)
        if excluded:
            combined = wq.AndNot(combined, excluded[0] if len(excluded) == 1 else wq.Or(excluded))
        return combined


def compile_query(query: str) -> CompiledQuery:
    """Parse `query` and build the Whoosh queries that run it. Raises QueryError."""
    tree = parse_query(query)
    compiler = _Compiler(query)
    strict = compiler.compile(tree)
    if strict is None:
        raise QueryError(query, "nothing searchable in it (only punctuation or symbols)")
    if isinstance(strict, wq.Not):
        raise QueryError(query, "only excluded words; add a word to search for")
    return CompiledQuery(strict, compiler.leaves, compiler.negatives, compiler.terms)


def weighting() -> scoring.WeightingModel:
    return scoring.BM25F(B=BM25_B, K1=BM25_K1)


def run_search(searcher: Any, query: str, *, limit: int = 10) -> SearchResults:
    """Run `query` on an open Whoosh searcher and copy the hits out of it."""
    if limit < 1:
        raise QueryError(query, "limit must be at least 1")
    compiled = compile_query(query)
    match = "all"
    results = searcher.search(compiled.strict, limit=limit)
    if results.is_empty() and (partial := compiled.partial(searcher)) is not None:
        results = searcher.search(partial, limit=limit)
        match = "partial"
    total = len(results)
    if total == 0:
        match = "all"
    hits = tuple(_make_hit(result, compiled.terms) for result in results)
    return SearchResults(query=query, total=total, match=match, hits=hits)


def _make_hit(result: Any, terms: list[str]) -> Hit:
    stored = result.fields()
    meta = stored.get("meta") or {}
    body = zlib.decompress(stored["body_z"]).decode("utf-8") if stored.get("body_z") else ""
    summary = stored.get("summary") or ""
    text = f"{summary}\n{body}" if summary else body
    return Hit(
        path=stored["path"],
        title=stored.get("title") or stored["path"],
        score=float(result.score or 0.0),
        date=meta.get("date"),
        tags=tuple(meta.get("tags") or ()),
        snippet=make_snippet(text, terms),
        author=meta.get("author"),
        source=meta.get("source"),
        url=meta.get("url"),
    )


# ---- explain ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """One query term matched in one field of the document, with its score."""

    field: str
    term: str
    score: float
    token: str | None = None  # the query word this term stands for, when it differs

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "term": self.term, "token": self.token, "score": round(self.score, 4)}


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a document ranks where it does for a query."""

    query: str
    path: str
    tokens: tuple[str, ...]
    match: str  # "all", "partial" or "none"
    score: float
    rank: int | None  # 1-based among all matches, None when it does not match
    total: int
    contributions: tuple[Contribution, ...]
    missing: tuple[str, ...]  # query tokens found in no field of the document

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "path": self.path,
            "tokens": list(self.tokens),
            "match": self.match,
            "score": round(self.score, 4),
            "rank": self.rank,
            "total": self.total,
            "contributions": [c.to_dict() for c in self.contributions],
            "missing": list(self.missing),
        }


def explain_document(searcher: Any, query: str, docnum: int, path: str) -> Explanation:
    """Score `query` against one document, term by term and field by field."""
    compiled = compile_query(query)
    match, ranked = "all", compiled.strict
    results = searcher.search(compiled.strict, limit=None)
    if results.is_empty() and (partial := compiled.partial(searcher)) is not None:
        match, ranked = "partial", partial
        results = searcher.search(partial, limit=None)
    order = [hit.docnum for hit in results]
    rank = order.index(docnum) + 1 if docnum in order else None
    score = float(results.score(order.index(docnum))) if rank else 0.0
    context = searcher.context()
    contributions = []
    found_tokens: set[str] = set()
    seen: set[tuple[str | None, str, str]] = set()
    for leaf, token in compiled.leaves:
        for term_query in list(leaf.leaves()) or [leaf]:
            key = (token, term_query.field(), str(term_query))
            if key in seen:
                continue
            seen.add(key)
            term_score = _score_in_document(term_query, searcher, context, docnum)
            if term_score is None:
                continue
            if token is not None:
                found_tokens.add(token)
            text = getattr(term_query, "text", None) or " ".join(getattr(term_query, "words", []))
            contributions.append(
                Contribution(
                    field=term_query.field(),
                    term=str(text) + ("*" if isinstance(term_query, wq.Prefix) else ""),
                    score=term_score,
                    token=token if token != text else None,
                )
            )
    contributions.sort(key=lambda c: -c.score)
    tokens = tuple(compiled.terms)
    missing = tuple(t for t in dict.fromkeys(tokens) if t not in found_tokens)
    return Explanation(
        query=query,
        path=path,
        tokens=tokens,
        match=match if rank else "none",
        score=score,
        rank=rank,
        total=len(order),
        contributions=tuple(contributions),
        missing=missing,
    )


def _score_in_document(query: wq.Query, searcher: Any, context: Any, docnum: int) -> float | None:
    matcher = query.matcher(searcher, context)
    if not matcher.is_active():
        return None
    if matcher.id() < docnum:
        matcher.skip_to(docnum)
    if not matcher.is_active() or matcher.id() != docnum:
        return None
    return float(matcher.score())
