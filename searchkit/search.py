"""Running a query on a snapshot of the index and building its results: the page
of hits with their snippets, facets, explanations, related documents.

plan.py decides what the query means; ranking.py scores; this module orders and
copies everything out into the frozen objects of results.py.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from .analysis import Analyzer, compound_parts, is_han
from .arrays import Scores
from .documents import read_document
from .errors import DocumentError
from .highlight import SnippetSource, cut_snippet
from .plan import Plan, plan_query, rank
from .postings import GRAMS_FIELD
from .query import Word, check_options
from .ranking import FIELD_WEIGHTS, Ranker
from .results import Contribution, Explanation, Hit, SearchResults
from .store import Snapshot


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
    prefix: bool = False,
) -> SearchResults:
    """Run `query` on a snapshot of the index and copy the hits out of it; snippets
    are cut from the files under `root`. With `prefix`, the last word is being typed."""
    facets = tuple(facets)
    check_options(query, limit=limit, offset=offset, sort=sort, facets=facets)
    plan = plan_query(query, analyzer, prefix=prefix)
    ranker = Ranker(snapshot)
    scores, match = rank(plan, ranker)
    page = order(snapshot, scores, _sort_for(plan, sort), offset + limit)[offset : offset + limit] if limit else []
    marked = plan.highlight_terms()
    return SearchResults(
        query=query,
        total=len(scores),
        match=match,
        hits=tuple(make_hit(snapshot, docnum, scores[docnum], marked, root) for docnum in page),
        offset=offset,
        facets=count_facets(snapshot, scores, facets),
        corrected=dict(plan.corrected),
        topic=None if plan.topic is None else snapshot.cards()[plan.topic].title,
    )


def _sort_for(plan: Plan, sort: str) -> str:
    """Filters alone rank nothing: their documents come newest first."""
    return "-date" if sort == "relevance" and not plan.terms else sort


def order(snapshot: Snapshot, scores: Scores, sort: str, count: int) -> list[int]:
    """The first `count` documents in `sort` order; ties in path order, so that the
    order does not depend on how the index happens to be split into segments."""
    paths = snapshot.paths()
    if sort == "relevance":  # only documents scoring at least the count-th best can make the page
        best = sorted(scores.best(count), key=lambda docnum: (-scores[docnum], paths[docnum]))
        return best[:count]
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


def current_text(root: Path | None, path: str) -> tuple[str, str]:
    """The body and link lists of the document at `path` as the file is now; empty
    when it cannot be read (moved, deleted): the hit then shows its stored summary."""
    if root is None:
        return "", ""
    try:
        document = read_document(root / path, root).document
    except (DocumentError, ValueError):
        return "", ""
    return document.body, document.links


# Characters of prepared snippet text one process keeps (each kept twice, as written
# and folded, at 2 bytes a character for Chinese: about 64 MB at most). Counted in
# characters, not documents, since a long post weighs a hundred short notes.
SNIPPET_SOURCE_CHARS = 16_000_000


def snippet_sources(root: Path | None, path: str, summary: str) -> tuple[SnippetSource, SnippetSource | None]:
    """The summary and body of the file at `path`, and its link lists, ready for
    snippets; kept for the file as it is now (its size and modification time), so a
    page of hits that repeats (a search box as it is typed) reads no file twice."""
    try:
        stat = (root / path).stat() if root is not None else None
    except OSError:
        stat = None
    if root is None or stat is None:
        return SnippetSource.of(summary), None
    key = (root, path, summary, stat.st_mtime_ns, stat.st_size)
    found: tuple[SnippetSource, SnippetSource | None] | None = PREPARED.get(key)
    if found is None:
        body, links = current_text(root, path)
        found = SnippetSource.of(f"{summary}\n{body}" if summary else body), SnippetSource.of(links) if links else None
        PREPARED.put(key, found, sum(len(source.text) for source in found if source is not None))
    return found


class PreparedTexts:
    """The prepared texts of the documents shown last, up to `budget` characters."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self.size += size
            while self.size > self.budget and len(self._entries) > 1:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0


PREPARED = PreparedTexts(SNIPPET_SOURCE_CHARS)


def make_hit(snapshot: Snapshot, docnum: int, score: float, terms: list[str], root: Path | None) -> Hit:
    stored = snapshot.stored(docnum)
    summary = stored.summary
    main, links = snippet_sources(root, stored.path, summary)
    snippet = cut_snippet(main, terms)
    if links is not None and terms and not snippet.ranges:  # the words are only in the link lists
        in_links = cut_snippet(links, terms)
        snippet = in_links if in_links.ranges else snippet
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


def marked_terms(snapshot: Snapshot, analyzer: Analyzer, query: str, *, prefix: bool = False) -> list[str]:
    """What `run_search` marks in snippets for `query`, to mark a whole document."""
    plan = plan_query(query, analyzer, prefix=prefix)
    plan.respell(Ranker(snapshot))
    return plan.highlight_terms()


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
    scores, _ = rank(plan, ranker)
    ordered = order(snapshot, scores, _sort_for(plan, "relevance"), len(scores)) if docnum in scores else []
    position = ordered.index(docnum) + 1 if ordered else None
    contributions: list[Contribution] = []
    found: set[str] = set()

    def record(fieldname: str, term: str, value: float, note: str | None) -> bool:
        if value:
            contributions.append(Contribution(fieldname, term, value, note))
        return bool(value)

    def record_word(term: str, note: str | None) -> bool:
        """The term's score in each text field; whether it is in any."""
        scores = [(name, ranker.term(name, term).get(docnum, 0.0) * weight) for name, weight in FIELD_WEIGHTS.items()]
        return any([record(name, term, score, note) for name, score in scores])

    scored = [token for token in dict.fromkeys(plan.terms) if token not in plan.weak]
    for token in scored:
        if record_word(token, None):
            found.add(token)
        if is_han(token) and (len(token) > 1 or token in plan.alone):
            if record(GRAMS_FIELD, token, ranker.substring(token).get(docnum, 0.0), "substring"):
                found.add(token)
        for form in ranker.compound_forms(token) if compound_parts(token) else ():
            if record_word(form, f"for {token}"):
                found.add(token)
    for token, fixed in plan.corrected.items():
        for word in fixed.split():
            if record_word(word, f"for {token}"):
                found.add(token)
    for text, forms in plan.forms.items():  # 人工智慧 is found where the note says 人工智能
        for form in forms:
            if any([record_word(token, f"{form}, for {text}") for token in plan.form_tokens(text, form)]):
                found.update(plan.tokens(text))
    for entry in plan.entries:
        record_word(entry, "dictionary name")
    for run in dict.fromkeys(plan.runs):
        record(GRAMS_FIELD, run, ranker.substring(run).get(docnum, 0.0), "substring")
        verbatim, titled = ranker.exact(run)
        record(GRAMS_FIELD, run, verbatim.get(docnum, 0.0), "as typed")
        record("title", run, titled.get(docnum, 0.0), "as typed, in the title")
    for left, right in plan.neighbours:
        bonus = ranker.side_by_side(left, right, ranker.of([docnum])).get(docnum, 0.0)
        record("words", f"{left} {right}", bonus, "side by side")
    for left, right in plan.adjacent:  # weak words too: 的 before a word still places it
        bonus = ranker.adjacency(left, right).get(docnum, 0.0)
        record(GRAMS_FIELD, left[-1] + right[0], bonus, f"{left} {right} side by side")
    if plan.topic is not None and plan.topic_bonus is not None:
        note = snapshot.cards()[plan.topic].title
        record("tags", note, plan.topic_bonus.get(docnum, 0.0), f"topic: tagged with the note {note}")
    contributions.sort(key=lambda c: -c.score)
    missing = tuple(token for token in scored if token not in found)
    return Explanation(
        query=query,
        path=path,
        tokens=tuple(plan.terms),
        match="none" if position is None else "partial" if missing else "all",
        score=scores.get(docnum, 0.0),
        rank=position,
        total=len(scores),
        contributions=tuple(contributions),
        missing=missing,
        unscored=tuple(sorted(plan.weak, key=plan.terms.index)),
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
    text = "\n".join((stored.title, stored.summary, current_text(root, stored.path)[0]))
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
    scores = ranker.nothing()
    for token, weight in heapq.nlargest(RELATED_TERMS, weights.items(), key=lambda item: item[1]):
        scores.add(ranker.word(token), weight)
    for tag in snapshot.cards()[docnum].tags:
        tagged = sorted(snapshot.keyword_documents("tag", tag.lower()))
        if 1 < len(tagged) <= max(RELATED_MAX_SHARE * count, 3):
            scores.add(ranker.of(tagged, RELATED_TAG_WEIGHT * math.log(count / len(tagged))))
    scores.remove(ranker.of([docnum]).matched)
    page = order(snapshot, scores, "relevance", limit)
    hits = tuple(make_hit(snapshot, d, scores[d], [], root) for d in page)
    return SearchResults(query=f"related:{stored.path}", total=len(scores), match="all", hits=hits)

