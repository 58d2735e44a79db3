"""What a query means: from the parsed tree (query.py) to the documents that match
and their scores (summed from ranking.py's units).

- a word matches a document when it occurs as a word in the title, tags, summary or
  body; a run of Han characters also matches where it occurs as a substring, even
  when the text was cut into words differently (via the bigram field);
- a query word that segments into several words (`好莱坞罢工`) needs all of them;
- question words and particles (什么, 哪一年, 有没有, 的, 可以: `analysis.WEAK_WORDS`)
  neither veto nor score when the query has other words: an answer rarely contains
  them, and every long post does;
- a query that reads as a sentence ranks the documents with some of its words
  beside those with all of them; a shorter one falls back to that when no document
  matches everything (`match == "partial"`);
- a Han run or words found as typed (verbatim, in a title, side by side) rank higher;
- a Taiwan word also searches its mainland form, a mistyped Latin word its
  correction, the last word of a prefix search the words it begins; a matching tag
  note lifts the notes tagged with it (topics.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .analysis import WEAK_WORDS, Analyzer, compound_parts, is_han, mainland_forms, normalize
from .arrays import Scores, coordination
from .errors import QueryError
from .query import All, Any_, Filter, Node, Not, Phrase, Word, parse_query
from .ranking import Ranker
from .spelling import correction, is_candidate, split_words
from .topics import topic_bonuses

# Partial matches are scaled by (share of their words matched) ** this power: 0, a
# plain sum, measured best (see benchmarks/README.md).
PARTIAL_COORD_POWER = 0.0
# A query of this many informative words with a question word or particle among them
# reads as a sentence, and so does one of SENTENCE_WORDS without: its documents are
# ranked as partial matches, full and partial together, since a short note with
# the key words answers it better than a long post that has every word by accident.
QUESTION_WORDS_MIN = 3
SENTENCE_WORDS = 5
# A Latin word being typed is completed from this many letters: one letter begins
# too many words (the, to, this) to say anything, and costs the most.
MIN_PREFIX = 2
# A mainland form of a word typed in Simplified characters must find documents where
# the word as typed finds none, or this many times its documents (plus one).
FORM_COMMONER = 3


@dataclass
class _Group:
    """Consecutive tokens of one query word: a Han run (several tokens, one string)
    or a single Latin/digit token."""

    tokens: list[str]
    run: str | None  # the normalised Han run, when the tokens are one
    start: int = 0
    end: int = 0


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
    adjacent: list[tuple[str, str]] = field(default_factory=list)  # neighbours in a Han run
    neighbours: list[tuple[str, str]] = field(default_factory=list)  # other neighbouring words: Sora 2
    runs: list[str] = field(default_factory=list)  # Han runs of several tokens
    phrases: list[str] = field(default_factory=list)  # quoted phrases, normalised, marked whole
    entries: list[str] = field(default_factory=list)  # dictionary names spelled by the terms
    alone: set[str] = field(default_factory=set)  # tokens typed as a word of their own
    weak: set[str] = field(default_factory=set)  # question words and particles beside other words
    forms: dict[str, list[str]] = field(default_factory=dict)  # a word's mainland forms: 程式 → 程序
    # a word's mainland forms by OpenCC, before respell decides which the index bears out
    candidate_forms: dict[str, list[str]] = field(default_factory=dict)
    variants: list[str] = field(default_factory=list)  # tokens of those forms the word lacks, to mark
    corrected: dict[str, str] = field(default_factory=dict)  # cluade → claude, claudecode → claude code
    prefix: str | None = None  # the last word, being typed: it also matches the words it begins
    completions: list[str] = field(default_factory=list)
    topic: int | None = None  # the tag note whose documents `rank` lifted
    topic_bonus: Scores | None = None
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
                last.end = end
            else:
                groups.append(_Group([token], token if is_han(token) else None, start, end))
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

    def only_words(self) -> bool:
        """Whether the query is words alone: no quoted phrase, filter, exclusion or OR."""
        return all(isinstance(node, Word | All) for node in _nodes(self.root))

    def is_sentence(self) -> bool:
        if any(isinstance(node, Any_) for node in _nodes(self.root)):
            return False  # an explicit OR says how to combine the words
        added = set(self.variants)  # a mainland form's words are the typed words again
        informative = sum(token not in self.weak and token not in added for token, _ in self.leaves)
        return informative >= SENTENCE_WORDS or (informative >= QUESTION_WORDS_MIN and bool(self.weak))

    def partial(self, ranker: Ranker) -> tuple[Scores, bool]:
        """Documents matching some of the positive units, more of them ranking higher,
        and whether every one of them matches all the units."""
        if len(self.leaves) < 2:
            return ranker.nothing(), False
        required: list[Scores] = []
        optional: list[Scores] = []
        for token, tokens in self.leaves:
            if token in self.weak:
                continue
            if token is not None:
                scores = self._token(ranker, token, alone=False)
                (optional if ranker.is_common(token) else required).append(scores)
            else:
                required.append(self._phrase(ranker, tokens[0]))
        if not required:
            return ranker.nothing(), False
        total = ranker.nothing()
        for scores in required:
            total.add(scores)
        for scores in optional:
            total.lift(scores)
        for excluded in self._negatives(ranker):
            total.remove(excluded.matched)
        for node in self._filters():
            total = total.only(self._filter(ranker, node).matched)
        self._add_adjacency(ranker, total)
        return coordination(total, required, PARTIAL_COORD_POWER)

    def _add_adjacency(self, ranker: Ranker, scores: Scores) -> None:
        """Bonuses for documents that have the query's words side by side: a
        junction bigram, a dictionary name (`stability ai`) as one entry, a Han run
        as typed, in the text and in the title."""
        for run in dict.fromkeys(self.runs):
            for bonuses in ranker.exact(run):
                scores.lift(bonuses)
        for entry in self.entries:
            scores.lift(ranker.word(entry))
        for left, right in self.neighbours:
            scores.lift(ranker.side_by_side(left, right, among=scores))
        for left, right in self.adjacent:
            scores.lift(ranker.adjacency(left, right, among=scores))

    def evaluate(self, ranker: Ranker, node: Node) -> Scores:
        """The documents matching `node`, with their scores."""
        if isinstance(node, Filter):
            return self._filter(ranker, node)
        if isinstance(node, Word):
            found = self._word(ranker, node)
            forms = [self._word(ranker, Word(form)) for form in self.forms.get(node.text, ())]
            return ranker.union([found, *forms]) if forms else found
        if isinstance(node, Phrase):
            return self._phrase(ranker, node.text)
        if isinstance(node, Not):
            everything = ranker.live()
            everything.remove(self.evaluate(ranker, node.operand).matched)
            return everything
        if isinstance(node, Any_):
            return ranker.union(self.evaluate(ranker, item) for item in node.items)
        positives = [
            self.evaluate(ranker, item)
            for item in node.items
            if not isinstance(item, Not) and not (isinstance(item, Word) and self._is_weak(item))
        ]
        result = ranker.intersection(positives)
        for item in node.items:
            if isinstance(item, Not):
                result.remove(self.evaluate(ranker, item.operand).matched)
        return result

    def _word(self, ranker: Ranker, node: Word) -> Scores:
        """The documents matching every informative group of one word of the query."""
        parts = []
        for group in self._informative_groups(node):
            if group.run is not None and len(group.tokens) > 1:
                tokens = [token for token in group.tokens if token not in self.weak] or group.tokens
                words = ranker.intersection([self._token(ranker, t, alone=False) for t in tokens])
                parts.append(ranker.union([words, ranker.substring(group.run)]))
            else:
                parts.append(self._token(ranker, group.tokens[0], alone=True))
        return ranker.intersection(parts)

    def _token(self, ranker: Ranker, token: str, *, alone: bool) -> Scores:
        """A token, and what it was corrected to, if anything."""
        scores = ranker.token(token, alone=alone)
        if token == self.prefix and self.completions:
            scores = ranker.union([scores, *(ranker.word(word) for word in self.completions)])
        fixed = self.corrected.get(token)
        if fixed is None:
            return scores
        # two words run together are searched as a joined name: claude-code, claude_code, "claude code"
        return ranker.union([scores, ranker.token(fixed.replace(" ", "-"), alone=alone)])

    def respell(self, ranker: Ranker) -> None:
        """Add the mainland forms of Taiwan and Hong Kong words, and correct Latin
        words that find almost nothing and are one or two letters off a common word
        of the index, or two common words run together."""
        for text, forms in self.candidate_forms.items():
            self._add_forms(ranker, text, forms)
        if self.prefix is not None:
            self.completions = ranker.completions(self.prefix)
            self.variants.extend(self.completions)
        for token, _ in self.leaves:
            if token is None or token in self.corrected or token == self.prefix or not is_candidate(token):
                continue
            fixed = correction(ranker.snapshot, token)
            if fixed is not None:
                self.corrected[token] = fixed
                continue
            pair = split_words(ranker.snapshot, token)
            if pair is not None and ranker.phrase(list(pair), han=False):
                self.corrected[token] = " ".join(pair)

    def _add_forms(self, ranker: Ranker, text: str, forms: list[str]) -> None:
        """A word's mainland forms, searched as well: always for a word typed in
        Traditional characters; for one typed in Simplified (人工智慧) only when the form
        finds several times more documents, since 文件 is a mainland word too."""
        traditional = normalize(text) != text.lower()
        for form in forms:
            if traditional or self._form_finds_more(ranker, text, form):
                self.forms.setdefault(text, []).append(form)
                extra = self.form_tokens(text, form)
                self.leaves.extend((token, [token]) for token in extra)
                self.variants.extend(extra)

    def form_tokens(self, text: str, form: str) -> list[str]:
        """The tokens of a word's mainland form that the word as typed lacks (智能 of
        人工智能 for 人工智慧)."""
        typed = self.tokens(text)
        return [token for token in self.tokens(form) if token not in typed]

    def _form_finds_more(self, ranker: Ranker, text: str, form: str) -> bool:
        typed = len(self._word(ranker, Word(text)))
        found = len(self._word(ranker, Word(form)))
        return found > 0 and (typed == 0 or found >= FORM_COMMONER * (typed + 1))

    def _informative_groups(self, node: Word) -> list[_Group]:
        groups = self.groups(node.text)
        return [group for group in groups if not set(group.tokens) <= self.weak] or groups

    def _is_weak(self, node: Word) -> bool:
        return all(set(group.tokens) <= self.weak for group in self.groups(node.text))

    def _phrase(self, ranker: Ranker, text: str) -> Scores:
        return ranker.phrase(self.tokens(text), han=is_han(text.strip()))

    def _filter(self, ranker: Ranker, node: Filter) -> Scores:
        """Documents passing a `name:value` filter; title: also scores."""
        snapshot = ranker.snapshot
        if node.field == "title":
            return ranker.intersection([ranker.term("title", token) for token in self.tokens(node.value)])
        if node.field in ("tag", "author", "source"):
            return ranker.of(snapshot.keyword_documents(node.field, node.value.strip().lower()))
        if node.field == "path":
            prefix = node.value.strip().lstrip("/")
            return ranker.of(d for d, path in snapshot.paths().items() if path.startswith(prefix))
        assert node.dates is not None
        accepts = node.dates.accepts
        return ranker.of(d for d, card in snapshot.cards().items() if card.date and accepts(card.date))

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
            for term in dict.fromkeys(
                [*self.phrases, *self.runs, *self.terms, *self.variants, *self.corrected.values()]
            )
            if term not in self.weak and not (len(term) == 1 and is_han(term) and term not in self.alone)
        ]


def plan_query(query: str, analyzer: Analyzer, *, prefix: bool = False) -> Plan:
    """Parse `query` and check that it asks for something; with `prefix`, its last
    word is taken as still being typed. Raises QueryError."""
    plan = Plan(query, analyzer)
    tree = _prune(plan, parse_query(query, typing=prefix))
    if tree is None:
        raise QueryError(query, "nothing searchable in it (only punctuation or symbols)")
    if isinstance(tree, Not):
        raise QueryError(query, "only excluded words; add a word to search for")
    plan.tree = tree
    _collect(plan, tree, negated=False)
    words = [token for token, _ in plan.leaves]
    if any(token is None or token not in WEAK_WORDS for token in words):
        plan.weak = {token for token in words if token in WEAK_WORDS}
    plan.entries = [entry for _, _, entry in analyzer.find_entries(plan.terms)]
    if prefix:
        plan.prefix = _typed_last(plan, tree, query)
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
        if isinstance(node, All) and not negated:
            words = [item for item in node.items if isinstance(item, Word) and plan.tokens(item.text)]
            for left, right in zip(words, words[1:], strict=False):
                plan.neighbours.append((plan.tokens(left.text)[-1], plan.tokens(right.text)[0]))
    elif isinstance(node, Filter):
        if node.field == "title" and not negated:
            plan.terms.extend(plan.tokens(node.value))
    elif not negated:
        tokens = plan.tokens(node.text)
        plan.terms.extend(tokens)
        if isinstance(node, Phrase):
            plan.leaves.append((None, [node.text]))
            if len(tokens) > 1:
                separator = "" if is_han(node.text.strip()) else " "
                plan.phrases.append(separator.join(tokens))
            return
        plan.leaves.extend((token, [token]) for token in tokens)
        forms = mainland_forms(node.text)
        if forms:
            plan.candidate_forms[node.text] = forms
        groups = plan.groups(node.text)
        plan.neighbours.extend(
            (a.tokens[-1], b.tokens[0]) for a, b in zip(groups, groups[1:], strict=False) if a.end == b.start
        )
        for group in groups:
            plan.adjacent.extend(zip(group.tokens, group.tokens[1:], strict=False))
            if len(group.tokens) > 1 and group.run is not None:
                plan.runs.append(group.run)
            else:
                plan.alone.add(group.tokens[0])


def _typed_last(plan: Plan, tree: Node, query: str) -> str | None:
    """The Latin token the query ends in, when the query ends in a word being typed
    (not a space, a quote or a filter). A Han run needs nothing: it already matches
    where it begins a longer word (大模 finds 大模型)."""
    last = tree.items[-1] if isinstance(tree, All) else tree
    if query[-1:].isspace() or not isinstance(last, Word):
        return None
    token = plan.tokens(last.text)[-1]
    if is_han(token) or compound_parts(token) or len(token) < MIN_PREFIX:
        return None
    return token


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, All | Any_):
        for item in node.items:
            yield from _nodes(item)
    elif isinstance(node, Not):
        yield from _nodes(node.operand)


def rank(plan: Plan, ranker: Ranker) -> tuple[Scores, str]:
    """Every matching document with its score, and how they match: "all" the query's
    words (question words and particles aside), else "partial" (documents matching
    some of them: when none has them all, or when the query reads as a sentence)."""
    plan.respell(ranker)
    scores, match = _match(plan, ranker)
    if plan.terms and scores:
        bonus, plan.topic = topic_bonuses(ranker.snapshot, scores)
        if not plan.only_words():  # a phrase, a filter or an exclusion says which documents
            bonus = bonus.only(scores.matched)
        if (bonus.matched & ~scores.matched).any():
            match = "partial"
        scores.add(bonus)
        plan.topic_bonus = bonus
    return scores, match


def _match(plan: Plan, ranker: Ranker) -> tuple[Scores, str]:
    if not plan.is_sentence():
        scores = plan.strict(ranker)
        if scores:
            return scores, "all"
    scores, complete = plan.partial(ranker)
    return scores, "all" if complete or not scores else "partial"
