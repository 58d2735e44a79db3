"""Topics: the vault's own tag notes. A note that a tag links to (`[[00-元语/tts]]`
links to `00-元语/tts.md`, which defines tts as 文本转语音…) stands for its topic: when
a query matches such a note well, the documents tagged with it are about what the
query asks, even where they repeat its words less than others.
"""

from __future__ import annotations

import heapq

from .ranking import Scores
from .store import Snapshot

# A tag note lifts its documents, by this share of its own score, when it scores at
# least MIN_SHARE of the best match and, where the first TOP_MATCHES hold MIN_OTHERS
# other documents or more, at least MIN_AGREEING of those carry its tag.
WEIGHT = 0.5
MIN_SHARE = 0.5
TOP_MATCHES = 10
MIN_OTHERS = 3
MIN_AGREEING = 0.3
MIN_TAGGED = 2
MAX_SHARE = 0.2  # a tag on more documents than this (AI, llm) says little about one


def topic_notes(snapshot: Snapshot) -> dict[int, frozenset[int]]:
    """Tag note → the documents tagged with it; once per commit."""
    found = snapshot.memo.get("topics")
    if found is None:
        by_link = _link_targets(snapshot.paths())
        found = {}
        for value in snapshot.keyword_values("tag"):
            note = by_link.get(value)
            if note is not None:
                tagged = snapshot.keyword_documents("tag", value) - {note}
                if len(tagged) >= MIN_TAGGED:
                    found[note] = frozenset(tagged)
        snapshot.memo["topics"] = found
    return found


def _link_targets(paths: dict[int, str]) -> dict[str, int]:
    """What a wiki-link may say to reach each document: its path without the suffix,
    or any tail of it (`[[00-元语/tts]]` reaches `vault/00-元语/tts.md`, as in Obsidian),
    when only one document has that tail."""
    targets: dict[str, int | None] = {}
    for docnum, path in paths.items():
        parts = path.lower().rsplit(".", 1)[0].split("/")
        for start in range(len(parts)):
            tail = "/".join(parts[start:])
            targets[tail] = docnum if tail not in targets else None
    return {tail: docnum for tail, docnum in targets.items() if docnum is not None}


def topic_bonuses(snapshot: Snapshot, scores: Scores) -> tuple[Scores, int | None]:
    """Bonuses for the documents tagged with the best-matching tag note, and that note:
    when the note scores near the best, its tag is not on too many documents
    to say something, and the best other matches carry the tag too (a tag note is
    short, so it ranks high for any word it has: 人工智能 is not a query about OpenAI).
    Tagged documents without the query's words are included: they are about it."""
    notes = topic_notes(snapshot)
    if not any(note in scores for note in notes):
        return {}, None
    score, note = max((scores[note], note) for note in notes if note in scores)
    best = heapq.nlargest(TOP_MATCHES, scores, key=scores.__getitem__)
    if score < MIN_SHARE * scores[best[0]]:
        return {}, None
    tagged = notes[note]
    others = [docnum for docnum in best if docnum not in notes]
    if len(tagged) > MAX_SHARE * snapshot.live_count:
        return {}, None
    if len(others) >= MIN_OTHERS and sum(docnum in tagged for docnum in others) < MIN_AGREEING * len(others):
        return {}, None
    return dict.fromkeys(tagged, WEIGHT * scores[note]), note
