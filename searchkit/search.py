"""Running a query: which documents match, how they rank, and what a hit holds.

query.py reads the query; this module decides what it means and builds the
results; ranking.py scores the units it asks for.

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
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import Analyzer, is_han
from .documents import read_document
from .errors import DocumentError, QueryError
from .highlight import cut_snippet
from .postings import GRAMS_FIELD
from .query import All, Any_, Filter, Node, Not, Phrase, Word, check_options, parse_query
from .ranking import FIELD_WEIGHTS, Ranker, Scores, add_into, intersection, union
from .results import Contribution, Explanation, Hit, SearchResults
from .store import Snapshot

# Partial matches are scaled by (share of their words matched) ** this power: 0, a
# plain sum, measured best (see benchmarks/README.md).
PARTIAL_COORD_POWER = 0.0


@dataclass
class _Group:
    """Consecutive tokens of one query word: a Han run (several tokens, one string)
    or a single Latin/digit token."""

    tokens: list[str]
    run: str | None  # the normalised Han run, when the tokens are one


@dataclass
class Plan:
    """What a parsed query asks for, ready to run on a Ranker. Each word of the
    query is segmented once, here."""

    query: str
    analyzer: Analyzer
    tree: Node | None = None
    terms: list[str] = field(default_factory=list)  # positive tokens, for highlighting
    # (token, [token]) for words, (None, [phrase text]) for phrases
    leaves: list[tuple[str | None, list[str]]] = field(default_factory=list)
    adjacent: list[tuple[str, str]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # Han runs of several tokens
    entries: list[str] = field(default_factory=list)  # dictionary names spelled by the terms
    alone: set[str] = field(default_factory=set)  # tokens typed as a word of their own
    _cuts: dict[str, list[tuple[str, int, int, int]]] = field(default_factory=dict)

    def tokens(self, text: str) -> list[str]:
        return [token for token, _, _, _ in self._cut(text)]

    def _cut(self, text: str) -> list[tuple[str, int, int, int]]:
        cut = self._cuts.get(text)
        if cut is None:
            cut = self._cuts[text] = list(self.analyzer.iter_tokens(text, query=True))
        return cut

    def groups(self, text: str) -> list[_Group]:
        groups: list[_Group] = []
        previous_end = -1
        for token, _, start, end in self._cut(text):
            last = groups[-1] if groups else None
            if is_han(token) and last is not None and last.run is not None and start == previous_end:
                last.tokens.append(token)
                last.run += token
            else:
                groups.append(_Group([token], token if is_han(token) else None))
            previous_end = end
        return groups

    @property
    def root(self) -> Node:
        assert self.tree is not None
        return self.tree

    def strict(self, ranker: Ranker) -> Scores:
        scores = self.evaluate(ranker, self.root)
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
                required.append(self._phrase(ranker, tokens[0]))
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
        for excluded in self._negatives(ranker):
            for docnum in excluded:
                total.pop(docnum, None)
        for node in self._filters():
            allowed = self._filter(ranker, node)
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

    def evaluate(self, ranker: Ranker, node: Node) -> Scores:
        """The documents matching `node`, with their scores."""
        if isinstance(node, Filter):
            return self._filter(ranker, node)
        if isinstance(node, Word):
            parts = []
            for group in self.groups(node.text):
                if group.run is not None and len(group.tokens) > 1:
                    words = intersection([ranker.token(t, alone=False) for t in group.tokens])
                    parts.append(union([words, ranker.substring(group.run)]))
                else:
                    parts.append(ranker.token(group.tokens[0], alone=True))
            return intersection(parts)
        if isinstance(node, Phrase):
            return self._phrase(ranker, node.text)
        if isinstance(node, Not):
            everything = dict.fromkeys(ranker.snapshot.live_documents(), 0.0)
            for docnum in self.evaluate(ranker, node.operand):
                everything.pop(docnum, None)
            return everything
        if isinstance(node, Any_):
            return union(self.evaluate(ranker, item) for item in node.items)
        positives = [self.evaluate(ranker, item) for item in node.items if not isinstance(item, Not)]
        result = intersection(positives)
        for item in node.items:
            if isinstance(item, Not):
                for docnum in self.evaluate(ranker, item.operand):
                    result.pop(docnum, None)
        return result

    def _phrase(self, ranker: Ranker, text: str) -> Scores:
        return ranker.phrase(self.tokens(text), han=is_han(text.strip()))

    def _filter(self, ranker: Ranker, node: Filter) -> Scores:
        """Documents passing a `name:value` filter; title: also scores."""
        snapshot = ranker.snapshot
        if node.field == "title":
            return intersection([ranker.term("title", token) for token in self.tokens(node.value)])
        if node.field in ("tag", "author", "source"):
            return dict.fromkeys(sorted(snapshot.keyword_documents(node.field, node.value.strip().lower())), 0.0)
        if node.field == "path":
            prefix = node.value.strip().lstrip("/")
            return {d: 0.0 for d, path in snapshot.paths().items() if path.startswith(prefix)}
        assert node.dates is not None
        accepts = node.dates.accepts
        return {d: 0.0 for d, card in snapshot.cards().items() if card.date and accepts(card.date)}

    def _filters(self) -> list[Filter]:
        """Filters that every result must pass, partial or not."""
        if isinstance(self.tree, Filter):
            return [self.tree]
        if isinstance(self.tree, All):
            return [item for item in self.tree.items if isinstance(item, Filter)]
        return []

    def _negatives(self, ranker: Ranker) -> list[Scores]:
        if isinstance(self.tree, All):
            return [self.evaluate(ranker, item.operand) for item in self.tree.items if isinstance(item, Not)]
        return []

    def highlight_terms(self) -> list[str]:
        """What to mark in snippets: the query's words and whole Han runs, but not a
        single character cut out of a longer run (the 体 of 智能体 would light up 具体)."""
        return [
            term
            for term in dict.fromkeys([*self.runs, *self.terms])
            if not (len(term) == 1 and is_han(term) and term not in self.alone)
        ]


def plan_query(query: str, analyzer: Analyzer) -> Plan:
    """Parse `query` and check that it asks for something. Raises QueryError."""
    plan = Plan(query, analyzer)
    tree = _prune(plan, parse_query(query))
    if tree is None:
        raise QueryError(query, "nothing searchable in it (only punctuation or symbols)")
    if isinstance(tree, Not):
        raise QueryError(query, "only excluded words; add a word to search for")
    plan.tree = tree
    _collect(plan, tree, negated=False)
    plan.entries = [entry for _, _, entry in analyzer.find_entries(plan.terms)]
    return plan


def _prune(plan: Plan, node: Node) -> Node | None:
    """Drop words that have no searchable token (punctuation); check that every AND
    group has something to look for."""
    if isinstance(node, Filter):
        if node.field == "title" and not plan.tokens(node.value):
            raise QueryError(plan.query, f"nothing searchable in title:{node.value}")
        return node
    if isinstance(node, Word | Phrase):
        return node if plan.tokens(node.text) else None
    if isinstance(node, Not):
        inner = _prune(plan, node.operand)
        return None if inner is None else Not(inner)
    items = tuple(item for item in (_prune(plan, i) for i in node.items) if item is not None)
    if not items:
        return None
    if isinstance(node, All) and all(isinstance(item, Not) for item in items):
        raise QueryError(plan.query, "only excluded words; add a word to search for")
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
            plan.terms.extend(plan.tokens(node.value))
    elif not negated:
        tokens = plan.tokens(node.text)
        plan.terms.extend(tokens)
        if isinstance(node, Phrase):
            plan.leaves.append((None, [node.text]))
            return
        plan.leaves.extend((token, [token]) for token in tokens)
        for group in plan.groups(node.text):
            plan.adjacent.extend(zip(group.tokens, group.tokens[1:], strict=False))
            if len(group.tokens) > 1 and group.run is not None:
                plan.runs.append(group.run)
            else:
                plan.alone.add(group.tokens[0])


# ---- running a search -----------------------------------------------------------------


def rank(plan: Plan, ranker: Ranker) -> tuple[Scores, str]:
    """Every matching document with its score, and how they match: "all" the query,
    else "partial" (the documents matching some of its words)."""
    scores = plan.strict(ranker)
    if scores:
        return scores, "all"
    scores = plan.partial(ranker)
    return scores, "partial" if scores else "all"


def run_search(
    snapshot: Snapshot,
    analyzer: Analyzer,
    query: str,
    *,
    limit: int = 10,
    offset: int = 0,
    sort: str = "relevance",
    facets: Iterable[str] = (),
    root: Path | None = None,
) -> SearchResults:
    """Run `query` on a snapshot of the index and copy the hits out of it; snippets
    are cut from the files under `root`."""
    facets = tuple(facets)
    check_options(query, limit=limit, offset=offset, sort=sort, facets=facets)
    plan = plan_query(query, analyzer)
    ranker = Ranker(snapshot)
    scores, match = rank(plan, ranker)
    page = order(snapshot, scores, _sort_for(plan, sort), offset + limit)[offset : offset + limit]
    marked = plan.highlight_terms()
    return SearchResults(
        query=query,
        total=len(scores),
        match=match,
        hits=tuple(make_hit(snapshot, docnum, scores[docnum], marked, root) for docnum in page),
        offset=offset,
        facets=count_facets(snapshot, scores, facets),
    )


def _sort_for(plan: Plan, sort: str) -> str:
    """Filters alone rank nothing: their documents come newest first."""
    return "-date" if sort == "relevance" and not plan.terms else sort


def order(snapshot: Snapshot, scores: Scores, sort: str, count: int) -> list[int]:
    """The first `count` documents in `sort` order; ties in path order, so that the
    order does not depend on how the index happens to be split into segments."""
    paths = snapshot.paths()
    if sort == "relevance":
        if len(scores) > count:  # only documents scoring at least the count-th best can make the page
            lowest = heapq.nlargest(count, scores.values())[-1]
            scores = {docnum: score for docnum, score in scores.items() if score >= lowest}
        best = sorted(scores.items(), key=lambda item: (-item[1], paths[item[0]]))[:count]
        return [docnum for docnum, _ in best]
    cards = snapshot.cards()
    if sort == "title":
        return sorted(scores, key=lambda d: (cards[d].title.casefold(), paths[d]))
    dated = [d for d in scores if cards[d].date]
    undated = sorted((d for d in scores if not cards[d].date), key=paths.__getitem__)
    dated.sort(key=lambda d: (cards[d].date, -scores[d], paths[d]), reverse=(sort == "-date"))
    return dated + undated  # documents without a date last, either way


def count_facets(snapshot: Snapshot, scores: Scores, names: tuple[str, ...]) -> dict[str, list[tuple[str, int]]]:
    if not names:
        return {}
    cards = snapshot.cards()
    counts: dict[str, dict[str, int]] = {name: {} for name in names}
    for docnum in scores:
        card = cards[docnum]
        values = {
            "tag": card.tags,
            "source": [card.source] if card.source else [],
            "author": [card.author] if card.author else [],
            "year": [card.date[:4]] if card.date else [],
        }
        for name in names:
            bucket = counts[name]
            for value in values[name]:
                bucket[value] = bucket.get(value, 0) + 1
    return {
        name: sorted(bucket.items(), key=lambda item: (-item[1], item[0]))
        for name, bucket in counts.items()
    }


def current_body(root: Path | None, path: str) -> str:
    """The body of the document at `path` as the file is now; "" when it cannot be
    read (moved, deleted): the hit then shows its stored summary."""
    if root is None:
        return ""
    try:
        return read_document(root / path, root).document.body
    except (DocumentError, ValueError):
        return ""


def make_hit(snapshot: Snapshot, docnum: int, score: float, terms: list[str], root: Path | None) -> Hit:
    stored = snapshot.stored(docnum)
    summary, body = stored.summary, current_body(root, stored.path)
    snippet = cut_snippet(f"{summary}\n{body}" if summary else body, terms)
    return Hit(
        path=stored.path,
        title=stored.title or stored.path,
        score=score,
        date=stored.date,
        tags=stored.tags,
        snippet=snippet.html(),
        author=stored.author,
        source=stored.source,
        url=stored.url,
        summary=summary,
        snippet_text=snippet.text,
        snippet_ranges=snippet.ranges,
    )


def documents_containing(snapshot: Snapshot, analyzer: Analyzer, words: Iterable[str]) -> set[str]:
    """Paths of the documents each of `words` matches, as a query word would."""
    plan = Plan("", analyzer)
    ranker = Ranker(snapshot)
    found: set[int] = set()
    for word in words:
        if plan.tokens(word):
            found.update(plan.evaluate(ranker, Word(word)))
    paths = snapshot.paths()
    return {paths[docnum] for docnum in found}


# ---- explain ----------------------------------------------------------------------------


def explain_document(snapshot: Snapshot, analyzer: Analyzer, query: str, docnum: int, path: str) -> Explanation:
    """Score `query` against one document, term by term and field by field; its rank
    is the one `run_search` gives it."""
    plan = plan_query(query, analyzer)
    ranker = Ranker(snapshot)
    scores, match = rank(plan, ranker)
    ordered = order(snapshot, scores, _sort_for(plan, "relevance"), len(scores)) if docnum in scores else []
    position = ordered.index(docnum) + 1 if ordered else None
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
        bonus = ranker.adjacency(left, right).get(docnum, 0.0)
        record(GRAMS_FIELD, left[-1] + right[0], bonus, f"{left} {right} side by side")
    contributions.sort(key=lambda c: -c.score)
    return Explanation(
        query=query,
        path=path,
        tokens=tuple(plan.terms),
        match=match if position else "none",
        score=scores.get(docnum, 0.0),
        rank=position,
        total=len(scores),
        contributions=tuple(contributions),
        missing=tuple(t for t in dict.fromkeys(plan.terms) if t not in found),
    )


# ---- related documents ------------------------------------------------------------------

RELATED_TERMS = 25
# a term in more than this share of documents says little about what a document is about
RELATED_MAX_SHARE = 0.2
RELATED_TAG_WEIGHT = 2.0


def related_documents(
    snapshot: Snapshot, analyzer: Analyzer, docnum: int, root: Path | None, *, limit: int = 10
) -> SearchResults:
    """Documents most like the one at `docnum`: those sharing its most distinctive
    words (more-like-this, tf·idf-picked, BM25-scored) and its rarer tags."""
    ranker = Ranker(snapshot)
    stored = snapshot.stored(docnum)
    text = "\n".join((stored.title, stored.summary, current_body(root, stored.path)))
    frequencies: dict[str, int] = {}
    for token, _, _, _ in analyzer.iter_tokens(text, query=True):
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
    for tag in snapshot.cards()[docnum].tags:
        tagged = sorted(snapshot.keyword_documents("tag", tag.lower()))
        if 1 < len(tagged) <= max(RELATED_MAX_SHARE * count, 3):
            bonus = RELATED_TAG_WEIGHT * math.log(count / len(tagged))
            for other in tagged:
                scores[other] = scores.get(other, 0.0) + bonus
    scores.pop(docnum, None)
    page = order(snapshot, scores, "relevance", limit)
    hits = tuple(make_hit(snapshot, d, scores[d], [], root) for d in page)
    return SearchResults(query=f"related:{stored.path}", total=len(scores), match="all", hits=hits)

