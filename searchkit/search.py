"""Running a query: which documents match, how they rank, and what a hit holds.

Scores come from ranking.py (BM25F read straight from the postings).

What a query means (see query.py for the syntax):
- a word matches a document when it occurs as a word in the title, tags, summary or
  body; a run of Han characters also matches where it occurs as a substring, even
  when the text was cut into words differently (via the bigram field);
- a query word that segments into several words (`好莱坞罢工`) needs all of them;
- when no document matches everything, the documents matching some of the words
  are returned, those matching more of them first (`match == "partial"`).
"""

from __future__ import annotations

import heapq
import json
import math
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis import find_entries, is_han, iter_tokens
from .documents import read_document
from .errors import DocumentError, QueryError
from .highlight import make_snippet
from .query import All, Any_, Filter, Node, Not, Phrase, Word, parse_query
from .ranking import (
    FIELD_WEIGHTS,
    GRAMS_FIELD,
    Ranker,
    Scores,
    add_into,
    intersection,
    union,
)

# Partial matches are scaled by (share of their words matched) ** this power: 0, a
# plain sum, measured best (see benchmarks/README.md).
PARTIAL_COORD_POWER = 0.0

DEFAULT_HIT_FIELDS = ("path", "title", "score", "date", "tags", "snippet")
HIT_FIELDS = (*DEFAULT_HIT_FIELDS, "author", "source", "url", "summary")
SORTS = ("relevance", "date", "-date", "title")
FACETS = ("tag", "source", "author", "year")


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
    summary: str = ""

    def to_dict(self, fields: Iterable[str] = DEFAULT_HIT_FIELDS) -> dict[str, Any]:
        """The hit as JSON-ready values; `fields` picks them (see HIT_FIELDS)."""
        values = {
            "path": self.path,
            "title": self.title,
            "score": round(self.score, 4),
            "date": self.date,
            "tags": list(self.tags),
            "snippet": self.snippet,
            "author": self.author,
            "source": self.source,
            "url": self.url,
            "summary": self.summary,
        }
        return {name: values[name] for name in fields}


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
    offset: int = 0
    # value counts over all matches, most frequent first: {"tag": [("AI", 120), ...]}
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> Hit:
        return self.hits[index]

    def to_dict(self, fields: Iterable[str] = DEFAULT_HIT_FIELDS) -> dict[str, Any]:
        data: dict[str, Any] = {
            "query": self.query,
            "total": self.total,
            "match": self.match,
            "offset": self.offset,
            "hits": [hit.to_dict(fields) for hit in self.hits],
        }
        if self.facets:
            data["facets"] = {name: [list(pair) for pair in counts] for name, counts in self.facets.items()}
        return data


@dataclass(frozen=True, slots=True)
class Contribution:
    """One query term matched in one field of the document, with its score."""

    field: str
    term: str
    score: float
    note: str | None = None  # how the term matched, when not as a plain word

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "term": self.term, "note": self.note, "score": round(self.score, 4)}


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


# ---- compiling the query tree ---------------------------------------------------------


@dataclass
class _Group:
    """Consecutive tokens of one query word: a Han run (several tokens, one string)
    or a single Latin/digit token."""

    tokens: list[str]
    run: str | None  # the normalised Han run, when the tokens are one


def _groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    previous_end = -1
    for token, _, start, end in iter_tokens(text, query=True):
        last = groups[-1] if groups else None
        if is_han(token) and last is not None and last.run is not None and start == previous_end:
            last.tokens.append(token)
            last.run += token
        else:
            groups.append(_Group([token], token if is_han(token) else None))
        previous_end = end
    return groups


@dataclass
class Plan:
    """What a parsed query asks for, ready to run on a Ranker."""

    query: str
    tree: Node
    terms: list[str] = field(default_factory=list)  # positive tokens, for highlighting
    # (token, [token]) for words, (None, [phrase text]) for phrases
    leaves: list[tuple[str | None, list[str]]] = field(default_factory=list)
    adjacent: list[tuple[str, str]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # Han runs of several tokens
    entries: list[str] = field(default_factory=list)  # dictionary names spelled by the terms
    alone: set[str] = field(default_factory=set)  # tokens typed as a word of their own

    def strict(self, ranker: Ranker) -> Scores:
        scores = self._evaluate(ranker, self.tree)
        self._add_adjacency(ranker, scores)
        return scores

    def partial(self, ranker: Ranker) -> Scores:
        """Documents matching some of the positive units, more of them ranking higher."""
        if len(self.leaves) < 2:
            return {}
        required: list[Scores] = []
        optional: list[Scores] = []
        for token, tokens in self.leaves:
            if token is not None:
                scores = ranker.token(token, alone=False)
                (optional if ranker.is_common(token) else required).append(scores)
            else:
                required.append(ranker.phrase(tokens[0]))
        if not required:
            return {}
        matched: dict[int, int] = {}
        total: Scores = {}
        for scores in required:
            add_into(total, scores)
            for docnum in scores:
                matched[docnum] = matched.get(docnum, 0) + 1
        for scores in optional:
            for docnum, score in scores.items():
                if docnum in total:
                    total[docnum] += score
        for excluded in self._negatives(ranker, self.tree):
            for docnum in excluded:
                total.pop(docnum, None)
        for node in self._filters():
            allowed = ranker.filter(node.field, node.value, self.query)
            total = {d: score for d, score in total.items() if d in allowed}
        self._add_adjacency(ranker, total)
        count = len(required)
        return {
            docnum: score * (matched[docnum] / count) ** PARTIAL_COORD_POWER
            for docnum, score in total.items()
        }

    def _add_adjacency(self, ranker: Ranker, scores: Scores) -> None:
        """Bonuses for documents that have the query's words side by side: a
        junction bigram, or a dictionary name (`stability ai`) as one entry."""
        for entry in self.entries:
            for docnum, bonus in ranker.word(entry).items():
                if docnum in scores:
                    scores[docnum] += bonus
        for left, right in self.adjacent:
            for docnum, bonus in ranker.adjacency(left, right, among=scores).items():
                scores[docnum] += bonus

    def _evaluate(self, ranker: Ranker, node: Node) -> Scores:
        if isinstance(node, Filter):
            return ranker.filter(node.field, node.value, self.query)
        if isinstance(node, Word):
            parts = []
            for group in _groups(node.text):
                if group.run is not None and len(group.tokens) > 1:
                    words = intersection([ranker.token(t, alone=False) for t in group.tokens])
                    parts.append(union([words, ranker.substring(group.run)]))
                else:
                    parts.append(ranker.token(group.tokens[0], alone=True))
            return intersection(parts)
        if isinstance(node, Phrase):
            return ranker.phrase(node.text)
        if isinstance(node, Not):
            everything = ranker.all_documents()
            for docnum in self._evaluate(ranker, node.operand):
                everything.pop(docnum, None)
            return everything
        if isinstance(node, Any_):
            return union(self._evaluate(ranker, item) for item in node.items)
        positives = [self._evaluate(ranker, item) for item in node.items if not isinstance(item, Not)]
        result = intersection(positives)
        for item in node.items:
            if isinstance(item, Not):
                for docnum in self._evaluate(ranker, item.operand):
                    result.pop(docnum, None)
        return result

    def _filters(self) -> list[Filter]:
        """Filters that every result must pass, partial or not."""
        if isinstance(self.tree, Filter):
            return [self.tree]
        if isinstance(self.tree, All):
            return [item for item in self.tree.items if isinstance(item, Filter)]
        return []

    def _negatives(self, ranker: Ranker, node: Node) -> list[Scores]:
        if isinstance(node, All):
            return [self._evaluate(ranker, item.operand) for item in node.items if isinstance(item, Not)]
        return []


def plan_query(query: str) -> Plan:
    """Parse `query` and check that it asks for something. Raises QueryError."""
    tree = _prune(parse_query(query), query)
    if tree is None:
        raise QueryError(query, "nothing searchable in it (only punctuation or symbols)")
    if isinstance(tree, Not):
        raise QueryError(query, "only excluded words; add a word to search for")
    plan = Plan(query, tree)
    _collect(plan, tree, negated=False)
    plan.entries = [entry for _, _, entry in find_entries(plan.terms)]
    return plan


def highlight_terms(plan: Plan) -> list[str]:
    """What to mark in snippets: the query's words and whole Han runs, but not a
    single character cut out of a longer run (the 体 of 智能体 would light up 具体)."""
    return [
        term
        for term in dict.fromkeys([*plan.runs, *plan.terms])
        if not (len(term) == 1 and is_han(term) and term not in plan.alone)
    ]


def _prune(node: Node, query: str) -> Node | None:
    """Drop words that have no searchable token (punctuation); check that every AND
    group has something to look for."""
    if isinstance(node, Filter):
        return node
    if isinstance(node, Word | Phrase):
        return node if any(True for _ in iter_tokens(node.text, query=True)) else None
    if isinstance(node, Not):
        inner = _prune(node.operand, query)
        return None if inner is None else Not(inner)
    items = tuple(item for item in (_prune(i, query) for i in node.items) if item is not None)
    if not items:
        return None
    if isinstance(node, All) and all(isinstance(item, Not) for item in items):
        raise QueryError(query, "only excluded words; add a word to search for")
    if len(items) == 1:
        return items[0]
    return type(node)(items)


def _collect(plan: Plan, node: Node, negated: bool) -> None:
    if isinstance(node, Not):
        _collect(plan, node.operand, not negated)
    elif isinstance(node, All | Any_):
        for item in node.items:
            _collect(plan, item, negated)
    elif isinstance(node, Filter):
        if node.field == "title" and not negated:
            plan.terms.extend(t for t, _, _, _ in iter_tokens(node.value, query=True))
    elif not negated:
        tokens = [t for t, _, _, _ in iter_tokens(node.text, query=True)]
        plan.terms.extend(tokens)
        if isinstance(node, Phrase):
            plan.leaves.append((None, [node.text]))
            return
        plan.leaves.extend((token, [token]) for token in tokens)
        for group in _groups(node.text):
            plan.adjacent.extend(zip(group.tokens, group.tokens[1:], strict=False))
            if len(group.tokens) > 1 and group.run is not None:
                plan.runs.append(group.run)
            else:
                plan.alone.add(group.tokens[0])


# ---- running a search -----------------------------------------------------------------


def run_search(
    searcher: Any,
    query: str,
    *,
    limit: int = 10,
    offset: int = 0,
    sort: str = "relevance",
    facets: Iterable[str] = (),
    root: Path | None = None,
) -> SearchResults:
    """Run `query` on an open Whoosh searcher and copy the hits out of it; snippets
    are cut from the files under `root`."""
    if limit < 1:
        raise QueryError(query, "limit must be at least 1")
    if offset < 0:
        raise QueryError(query, "offset must be 0 or more")
    if sort not in SORTS:
        raise QueryError(query, f"sort must be one of {', '.join(SORTS)}")
    facets = tuple(facets)
    unknown = [name for name in facets if name not in FACETS]
    if unknown:
        raise QueryError(query, f"unknown facet {unknown[0]!r}; use {', '.join(FACETS)}")
    plan = plan_query(query)
    ranker = Ranker(searcher)
    match = "all"
    scores = plan.strict(ranker)
    if not scores:
        scores = plan.partial(ranker)
        match = "partial" if scores else "all"
    if sort == "relevance" and not plan.terms:
        sort = "-date"  # filters alone rank nothing: newest first
    page = _order(ranker, scores, sort, offset + limit)[offset : offset + limit]
    marked = highlight_terms(plan)
    hits = tuple(_make_hit(searcher, docnum, scores[docnum], marked, root) for docnum in page)
    return SearchResults(
        query=query,
        total=len(scores),
        match=match,
        hits=hits,
        offset=offset,
        facets=_facets(ranker, scores, facets),
    )


def _order(ranker: Ranker, scores: Scores, sort: str, count: int) -> list[int]:
    """The first `count` documents in `sort` order; ties in path order, so that the
    order does not depend on how the index happens to be split into segments."""
    paths = ranker.paths()
    if sort == "relevance":
        if len(scores) > count:  # only documents scoring at least the count-th best can make the page
            lowest = heapq.nlargest(count, scores.values())[-1]
            scores = {docnum: score for docnum, score in scores.items() if score >= lowest}
        best = sorted(scores.items(), key=lambda item: (-item[1], paths[item[0]]))[:count]
        return [docnum for docnum, _ in best]
    cards = ranker.cards()
    if sort == "title":
        return sorted(scores, key=lambda d: (str(cards.get(d, {}).get("title") or "").casefold(), paths[d]))
    dated = [d for d in scores if cards.get(d, {}).get("date")]
    undated = sorted((d for d in scores if not cards.get(d, {}).get("date")), key=paths.__getitem__)
    dated.sort(key=lambda d: (cards[d]["date"], -scores[d], paths[d]), reverse=(sort == "-date"))
    return dated + undated  # documents without a date last, either way


def _facets(ranker: Ranker, scores: Scores, names: tuple[str, ...]) -> dict[str, list[tuple[str, int]]]:
    if not names:
        return {}
    cards = ranker.cards()
    counts: dict[str, dict[str, int]] = {name: {} for name in names}
    for docnum in scores:
        card = cards.get(docnum, {})
        values = {
            "tag": card.get("tags") or [],
            "source": [card["source"]] if card.get("source") else [],
            "author": [card["author"]] if card.get("author") else [],
            "year": [card["date"][:4]] if card.get("date") else [],
        }
        for name in names:
            bucket = counts[name]
            for value in values[name]:
                bucket[value] = bucket.get(value, 0) + 1
    return {
        name: sorted(bucket.items(), key=lambda item: (-item[1], item[0]))
        for name, bucket in counts.items()
    }


def pack_stored(fields: dict[str, Any]) -> bytes:
    """What a hit shows of a document (title, summary, date, …) as one stored value:
    JSON in GB18030 (two bytes per Han character, not three; it encodes all of
    Unicode), compressed. The body is not stored: snippets are cut from the file, as
    it is now (the vault is the source of truth; storing it doubled the index)."""
    return zlib.compress(json.dumps(fields, ensure_ascii=False).encode("gb18030"), 6)


def unpack_stored(stored: dict[str, Any]) -> dict[str, Any]:
    packed = stored.get("doc_z")
    return dict(json.loads(zlib.decompress(packed).decode("gb18030"))) if packed else {}


def current_body(root: Path | None, path: str) -> str:
    """The body of the document at `path` as the file is now; "" when it cannot be
    read (moved, deleted): the hit then shows its stored summary."""
    if root is None:
        return ""
    try:
        return read_document(root / path, root).document.body
    except (DocumentError, ValueError):
        return ""


def _make_hit(searcher: Any, docnum: int, score: float, terms: list[str], root: Path | None) -> Hit:
    stored = searcher.stored_fields(docnum)
    meta = unpack_stored(stored)
    summary, body = meta.get("summary") or "", current_body(root, stored["path"])
    text = f"{summary}\n{body}" if summary else body
    return Hit(
        summary=summary,
        path=stored["path"],
        title=meta.get("title") or stored["path"],
        score=score,
        date=meta.get("date"),
        tags=tuple(meta.get("tags") or ()),
        snippet=make_snippet(text, terms),
        author=meta.get("author"),
        source=meta.get("source"),
        url=meta.get("url"),
    )


# ---- explain ----------------------------------------------------------------------------


def explain_document(searcher: Any, query: str, docnum: int, path: str) -> Explanation:
    """Score `query` against one document, term by term and field by field."""
    plan = plan_query(query)
    ranker = Ranker(searcher)
    match, scores = "all", plan.strict(ranker)
    if not scores:
        match, scores = "partial", plan.partial(ranker)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    order = [d for d, _ in ranked]
    rank = order.index(docnum) + 1 if docnum in scores else None
    contributions: list[Contribution] = []
    found: set[str] = set()

    def record(fieldname: str, term: str, value: float, note: str | None) -> None:
        if value:
            contributions.append(Contribution(fieldname, term, value, note))

    for token in dict.fromkeys(plan.terms):
        for fieldname, weight in FIELD_WEIGHTS.items():
            score = ranker.term(fieldname, token).get(docnum)
            if score:
                found.add(token)
                record(fieldname, token, score * weight, None)
        if is_han(token) and (len(token) > 1 or token in plan.alone):
            score = ranker.substring(token).get(docnum)
            if score:
                found.add(token)
                record(GRAMS_FIELD, token, score, "substring")
    for entry in plan.entries:
        for fieldname, weight in FIELD_WEIGHTS.items():
            record(fieldname, entry, ranker.term(fieldname, entry).get(docnum, 0.0) * weight, "dictionary name")
    for run in dict.fromkeys(plan.runs):
        record(GRAMS_FIELD, run, ranker.substring(run).get(docnum, 0.0), "substring")
    for left, right in plan.adjacent:
        record(GRAMS_FIELD, left[-1] + right[0], ranker.adjacency(left, right).get(docnum, 0.0), f"{left} {right} side by side")
    contributions.sort(key=lambda c: -c.score)
    return Explanation(
        query=query,
        path=path,
        tokens=tuple(plan.terms),
        match=match if rank else "none",
        score=scores.get(docnum, 0.0),
        rank=rank,
        total=len(scores),
        contributions=tuple(contributions),
        missing=tuple(t for t in dict.fromkeys(plan.terms) if t not in found),
    )


# ---- related documents ------------------------------------------------------------------

RELATED_TERMS = 25
# a term in more than this share of documents says little about what a document is about
RELATED_MAX_SHARE = 0.2
RELATED_TAG_WEIGHT = 2.0


def related_documents(searcher: Any, docnum: int, path: str, root: Path | None, *, limit: int = 10) -> SearchResults:
    """Documents most like the one at `docnum`: those sharing its most distinctive
    words (more-like-this, tf·idf-picked, BM25-scored) and its rarer tags."""
    ranker = Ranker(searcher)
    stored = unpack_stored(searcher.stored_fields(docnum))
    text = "\n".join((stored.get("title") or "", stored.get("summary") or "", current_body(root, path)))
    frequencies: dict[str, int] = {}
    for token, _, _, _ in iter_tokens(text, query=True):
        if (len(token) > 1 or not is_han(token)) and not token.isdigit():
            frequencies[token] = frequencies.get(token, 0) + 1
    count = ranker.live_count
    weights = {}
    for token, frequency in frequencies.items():
        documents = max(ranker.document_frequency(name, token) for name in ("body", "summary", "title"))
        if 2 <= documents <= max(RELATED_MAX_SHARE * count, 3):
            weights[token] = (1 + math.log(frequency)) * math.log(count / documents)
    scores: Scores = {}
    for token, weight in heapq.nlargest(RELATED_TERMS, weights.items(), key=lambda item: item[1]):
        add_into(scores, ranker.word(token), weight)
    card = ranker.cards().get(docnum, {})
    for tag in card.get("tags") or []:
        tagged = [d for d, _ in ranker.postings("tag", tag.lower())]
        if 1 < len(tagged) <= max(RELATED_MAX_SHARE * count, 3):
            bonus = RELATED_TAG_WEIGHT * math.log(count / len(tagged))
            for other in tagged:
                scores[other] = scores.get(other, 0.0) + bonus
    scores.pop(docnum, None)
    page = _order(ranker, scores, "relevance", limit)
    hits = tuple(_make_hit(searcher, d, scores[d], [], root) for d in page)
    return SearchResults(query=f"related:{path}", total=len(scores), match="all", hits=hits)
