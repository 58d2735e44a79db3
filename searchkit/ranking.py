"""Scoring: BM25F of terms, phrases and substrings, from searchkit's postings files.

What a query means is decided in search.py; this module only scores the units it
asks for, on one `Snapshot` of the index.

Scores are computed term at a time: for each query term and field, each segment's
postings are read as arrays and the scores summed per document in a vector
(arrays.py). Whoosh's own matcher tree does the same work through layers of Python
objects per posting and is many times slower on the multi-field, multi-term queries
searchkit builds.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator

from . import arrays
from .analysis import COMPOUND_JOINERS, compound_parts, is_han, substring_grams
from .arrays import Scores, Vector
from .postings import GRAMS_FIELD, FieldPostings, SegmentPostings
from .store import Snapshot, rounded_lengths

# Weight of each text field in the BM25F sum: equal (eval passages share their
# article's title, and title boosts promoted the siblings), but the generated link
# lists to other notes count little.
LINKS_WEIGHT = 0.3
FIELD_WEIGHTS: dict[str, float] = {
    "title": 1.0,
    "tags": 1.0,
    "summary": 1.0,
    "body": 1.0,
    "byline": 1.0,
    "links": LINKS_WEIGHT,
}
# A strong length normalisation: beside a vault of long notes, b 0.4 let long posts
# collect scores from many words by accident (benchmarks/README.md, mixed runs).
BM25_K1 = 1.2
BM25_B = 0.9
# A Han string found only as a substring (cut differently in the text, or part of a
# longer word) scores with this weight; word matches rank above.
SUBSTRING_WEIGHT = 0.5
# Neighbouring query words whose junction bigram occurs in the document are likely
# side by side there too, as in the query.
ADJACENCY_WEIGHT = 0.5
# A Han run of the query found as typed (all its characters together), and found in
# a title, adds this share of its bigrams' weight.
EXACT_WEIGHT = 1.0
TITLE_EXACT_WEIGHT = 1.0
# A word being typed (prefix search) also matches the commonest words it begins.
MAX_COMPLETIONS = 20
# A word found in more than this share of documents (的, 是) says little on its own.
COMMON_SHARE = 0.5
COMMON_MIN_DOCUMENTS = 20

class Ranker:
    """BM25F scores of terms, phrases and substrings on one snapshot of the index.

    Scores are kept per (field, term) for the ranker's life: one query.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.size = snapshot.doc_count  # every Scores of this ranker has one value per document
        self.doc_count = max(snapshot.doc_count, 1)
        self.live_count = max(snapshot.live_count, 1)
        self._live = _live_mask(snapshot)
        self._term_scores: dict[tuple[str, str], Scores] = {}
        self._run_starts: dict[str, tuple[Vector, Vector]] = {}
        self._average_length: dict[str, float] = {}

    def nothing(self) -> Scores:
        return Scores.none(self.size)

    def of(self, documents: object, score: float = 0.0) -> Scores:
        """Scores for `documents` (numbers, or a mask), each `score`."""
        return Scores.of(self.size, documents, score)

    def union(self, parts: Iterator[Scores] | list[Scores]) -> Scores:
        return arrays.union(list(parts), self.size)

    def intersection(self, parts: list[Scores]) -> Scores:
        return arrays.intersection(parts, self.size)

    def live(self) -> Scores:
        """Every live document, scoring 0.0."""
        return self.of(arrays.everything(self.size) if self._live is None else self._live)

    # -- raw postings and BM25 --

    def document_frequency(self, fieldname: str, text: str) -> int:
        return sum(postings.field(fieldname).doc_frequency(text) for postings, _ in self.snapshot.segments)

    def _postings_of(self, fieldname: str, text: str) -> list[tuple[int, Vector, Vector | None, FieldPostings]]:
        """(offset, documents, frequencies, table) of `text` in each segment holding it;
        their documents together are its document frequency (deleted ones included,
        as in Whoosh), so the term is looked up once per segment."""
        found = []
        for postings, offset in self.snapshot.segments:
            table = postings.field(fieldname)
            documents, frequencies = arrays.postings(table, text)
            if documents.size:
                found.append((offset, documents, frequencies, table))
        return found

    def _idf(self, frequency: int) -> float:
        return math.log(self.doc_count / (frequency + 1)) + 1

    def term(self, fieldname: str, text: str) -> Scores:
        """BM25 of a term in one text field, per document (unweighted)."""
        key = (fieldname, text)
        cached = self._term_scores.get(key)
        if cached is not None:
            return cached
        found = self._postings_of(fieldname, text)
        scores = self.nothing()
        if found:
            weight = self._idf(sum(len(documents) for _, documents, _, _ in found)) * (BM25_K1 + 1)
            for offset, documents, frequencies, table in found:
                norms = self._norms(fieldname, table)[documents]
                if frequencies is None or fieldname == GRAMS_FIELD:  # a bigram counts once
                    scores.values[documents + offset] = weight / (1 + norms)
                else:
                    scores.values[documents + offset] = weight * frequencies / (frequencies + norms)
                scores.matched[documents + offset] = True
            self._drop_deleted(scores)
        self._term_scores[key] = scores
        return scores

    def grams_together(self, grams: list[str], among: Scores | None = None) -> Scores:
        """Documents holding every one of `grams` (bigrams), optionally only those
        `among` a set of candidates, scored by the sum of the bigrams' BM25. The
        documents are intersected first, rarest bigram first, so a common bigram costs
        a set operation, not a score per posting, and a run that occurs nowhere stops
        as soon as its rarest bigrams have no document in common."""
        if not grams:
            return self.nothing()
        frequency = {gram: self.document_frequency(GRAMS_FIELD, gram) for gram in grams}
        if not all(frequency.values()):
            return self.nothing()
        weight = sum(self._idf(frequency[gram]) for gram in grams) * (BM25_K1 + 1)
        rarest_first = sorted(set(grams), key=frequency.__getitem__)
        scores = self.nothing()
        for postings, offset in self.snapshot.segments:
            table = postings.field(GRAMS_FIELD)
            documents = arrays.common(arrays.postings(table, gram)[0] for gram in rarest_first)
            if among is not None and documents.size:
                documents = documents[among.matched[documents + offset]]
            if documents.size:
                scores.values[documents + offset] = weight / (1 + self._norms(GRAMS_FIELD, table)[documents])
                scores.matched[documents + offset] = True
        self._drop_deleted(scores)
        return scores

    def _by_segment(self, documents: Vector) -> Iterator[tuple[SegmentPostings, int, Vector]]:
        """Each segment holding some of the sorted `documents`, with their numbers in it."""
        for postings, offset in self.snapshot.segments:
            low, high = documents.searchsorted([offset, offset + postings.doc_count])
            if high > low:
                yield postings, offset, documents[low:high] - offset

    def _drop_deleted(self, scores: Scores) -> None:
        if self._live is not None:
            scores.matched &= self._live
            scores.values[~self._live] = 0.0

    def _norms(self, fieldname: str, table: FieldPostings) -> Vector:
        """The length part of BM25's denominator for each document of one segment,
        kept with the segment's table (which lives as long as the snapshot)."""
        norms = table.norms
        if norms is None:
            base = BM25_K1 * (1 - BM25_B)
            scale = BM25_K1 * BM25_B / self._average(fieldname)
            norms = table.norms = base + scale * arrays.vector(rounded_lengths(table.lengths))
        return norms

    def _average(self, fieldname: str) -> float:
        if fieldname not in self._average_length:
            total = sum(postings.field(fieldname).total_length for postings, _ in self.snapshot.segments)
            self._average_length[fieldname] = total / self.doc_count or 1.0
        return self._average_length[fieldname]

    # -- query units --

    def word(self, token: str) -> Scores:
        """A token as a word in any text field, weighted per field."""
        total = self.union(self.term(name, token) for name, weight in FIELD_WEIGHTS.items() if weight == 1.0)
        for name, weight in FIELD_WEIGHTS.items():
            if weight != 1.0:
                total.add(self.term(name, token), weight)
        return total

    def substring(self, text: str) -> Scores:
        """Documents where the normalised Han string occurs, scored by its bigrams'
        BM25, weighted down."""
        if len(text) == 1:
            return self._character(text)
        matched = self.grams_together(substring_grams(text))
        if len(text) > 2:
            matched = matched.only(arrays.mask(self.size, self.run_starts(text, matched)[0]))
        return matched.scaled(SUBSTRING_WEIGHT)

    def run_starts(self, text: str, holding: Scores | None = None) -> tuple[Vector, Vector]:
        """The documents in which the normalised Han string `text` (two or more
        characters) stands, where its bigrams follow one another, and the first offset
        at which it does in each. Offsets count characters of the document's text
        fields joined by newlines, title first. `holding`: the documents that hold
        all its bigrams, when the caller has them."""
        cached = self._run_starts.get(text)
        if cached is not None:
            return cached
        grams = substring_grams(text)
        holding = self.grams_together(grams) if holding is None else holding
        documents, starts = [], []
        for postings, offset, local in self._by_segment(holding.documents()):
            found, first = arrays.sequence_starts(postings.field(GRAMS_FIELD), grams, local)
            documents.append(found + offset)
            starts.append(first)
        runs = self._run_starts[text] = (arrays.joined(documents), arrays.joined(starts))
        return runs

    def exact(self, text: str) -> tuple[Scores, Scores]:
        """Bonuses for documents holding the normalised Han run `text` as typed, and for
        those whose title holds it: the idf of the run as one term (a run as common as
        年的时候 says little)."""
        documents = self.run_starts(text)[0]
        if not documents.size:
            return self.nothing(), self.nothing()
        weight = self._as_one_term(len(documents))
        return self.of(documents, weight * EXACT_WEIGHT), self.of(self.in_titles(text), weight * TITLE_EXACT_WEIGHT)

    def _as_one_term(self, documents: int) -> float:
        """The BM25 weight of something found once in each of `documents` documents,
        without length normalisation: a run or a pair of words taken as one term."""
        return self._idf(documents) * (BM25_K1 + 1)

    def in_titles(self, text: str) -> Vector:
        """Documents whose title holds the normalised Han string `text` (two or more
        characters) as written: the title is the first of the joined fields."""
        lengths = self.snapshot.memo.get("title lengths")
        if lengths is None:
            titles = [0] * self.size
            for docnum, card in self.snapshot.cards().items():
                titles[docnum] = len(card.title)
            lengths = self.snapshot.memo["title lengths"] = arrays.vector(titles, "int64")
        documents, starts = self.run_starts(text)
        return documents[starts + len(text) <= lengths[documents]]

    def _character(self, char: str) -> Scores:
        """Documents holding a Han character: those with a bigram it begins (or the
        character alone, where it ends a run), each at the flat substring weight."""
        found: set[int] = set()
        for postings, offset in self.snapshot.segments:
            found.update(local + offset for local in postings.field(GRAMS_FIELD).documents_with_prefix(char))
        total = self.of(found, SUBSTRING_WEIGHT)
        self._drop_deleted(total)
        return total

    def completions(self, prefix: str) -> list[str]:
        """The commonest words of the index (any text field) that begin with the Latin
        `prefix` and are longer: what a word being typed may become (`clau` → claude)."""
        frequencies: dict[str, int] = {}
        for postings, _ in self.snapshot.segments:
            for fieldname in FIELD_WEIGHTS:
                for term, count in postings.field(fieldname).prefix_frequencies(prefix):
                    if len(term) > len(prefix):
                        frequencies[term] = frequencies.get(term, 0) + count
        return heapq.nlargest(MAX_COMPLETIONS, frequencies, key=lambda term: (frequencies[term], term))

    def extensions(self, compound: str) -> set[str]:
        """Longer compounds that `compound` begins, in any text field: gpt-5 → gpt-5.2,
        gpt-5-codex (not gpt-50: the next character must be a joiner)."""
        found: set[str] = set()
        for postings, _ in self.snapshot.segments:
            for fieldname in FIELD_WEIGHTS:
                for term in postings.field(fieldname).with_prefix(compound):
                    if len(term) > len(compound) and term[len(compound)] in COMPOUND_JOINERS:
                        found.add(term)
        return found

    def compound_forms(self, compound: str) -> list[str]:
        """The other spellings of a joined word (claude-code = claude_code = claude.code)
        and the longer compounds each begins, as the index has them."""
        parts = compound_parts(compound)
        spellings = {compound, *(joiner.join(parts) for joiner in COMPOUND_JOINERS)}
        forms = sorted(spellings - {compound})
        for spelling in sorted(spellings):
            forms.extend(sorted(self.extensions(spelling)))
        return forms

    def _words_apart(self, parts: list[str]) -> list[Scores]:
        """claude-code as claude code, words side by side; not for versions: gpt-5 is no
        "gpt" before a "5" (that would take "GPT-4 5月" too)."""
        return [] if any(part.isdigit() for part in parts) else [self.phrase(parts, han=False)]

    def token(self, token: str, *, alone: bool) -> Scores:
        """A query token: as a word, and (Han, two or more characters, or typed alone)
        as a substring; a joined Latin token also as the longer compounds it begins and
        as its words side by side."""
        scores = self.word(token)
        parts = compound_parts(token)
        if parts:
            longer = [self.word(form) for form in self.compound_forms(token)]
            return self.union([scores, *longer, *self._words_apart(parts)])
        if is_han(token) and (len(token) > 1 or alone):
            scores = self.union([scores, self.substring(token)])
        return scores

    def phrase(self, tokens: list[str], *, han: bool) -> Scores:
        """Documents with `tokens` side by side. Han characters typed without spaces
        (`han`: 「河西文化」) also match where that string occurs but was cut into
        words differently."""
        if len(tokens) == 1:
            return self.token(tokens[0], alone=True)
        substring = self.substring("".join(tokens)) if han else self.nothing()
        # Han characters must stand together as typed: a search-mode sub-word shares its
        # word's position, so 开源 模型 would be "side by side" in 开源大模型.
        matched = substring.matched if han else self._in_sequence(tokens)
        words = self.union([*(self.word(token) for token in tokens), substring])
        return words.on(matched)

    def adjacency(self, left: str, right: str, among: Scores | None = None) -> Scores:
        return self.grams_together([left[-1] + right[0]], among).scaled(ADJACENCY_WEIGHT)

    def side_by_side(self, left: str, right: str, among: Scores) -> Scores:
        """Bonuses for the documents `among` the candidates where the word `right`
        follows `left` in some field (`Sora 2`, `Claude Code`): the idf of the pair as
        one term, as for a Han run found as typed."""
        if compound_parts(left) or compound_parts(right):
            return self.nothing()  # a joined name already matches its words side by side
        found = self._in_sequence([left, right], among)
        return self.of(found, self._as_one_term(int(found.sum())) * EXACT_WEIGHT)

    def _in_sequence(self, tokens: list[str], among: Scores | None = None) -> Vector:
        """A mask of the live documents (`among` some, when given) where `tokens` stand
        at consecutive positions in some text field."""
        found = arrays.mask(self.size, [])
        every: Iterable[tuple[SegmentPostings, int, Vector | None]] = (
            ((postings, offset, None) for postings, offset in self.snapshot.segments)
            if among is None
            else self._by_segment(among.documents())
        )
        for postings, offset, local in every:
            for fieldname in FIELD_WEIGHTS:
                found[_side_by_side(postings.field(fieldname), tokens, local) + offset] = True
        if self._live is not None:
            found &= self._live
        return found

    def is_common(self, token: str) -> bool:
        if self.live_count < COMMON_MIN_DOCUMENTS:
            return False  # in a handful of documents every word is in most of them
        limit = COMMON_SHARE * self.live_count
        return any(self.document_frequency(name, token) > limit for name in FIELD_WEIGHTS)


def _live_mask(snapshot: Snapshot) -> Vector | None:
    """A mask of the snapshot's live documents; None when none is deleted."""
    if not snapshot.deleted:
        return None
    if "live mask" not in snapshot.memo:
        live = arrays.mask(snapshot.doc_count, sorted(snapshot.live_documents()))
        snapshot.memo["live mask"] = live
    return snapshot.memo["live mask"]


def _side_by_side(table: FieldPostings, tokens: list[str], among: Vector | None = None) -> Vector:
    """Documents of one segment (`among` the sorted local numbers, when given) where
    `tokens` occur at consecutive positions."""
    lists = [arrays.postings(table, token)[0] for token in tokens]
    candidates = arrays.common(sorted(lists, key=len))
    if among is not None and candidates.size:
        candidates = arrays.common([candidates, among])
    return arrays.sequence_starts(table, tokens, candidates)[0]
