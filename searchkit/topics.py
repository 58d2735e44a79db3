"""Topics: the vault's own tag notes. A note that a tag links to (`[[00-元语/tts]]`
links to `00-元语/tts.md`, which defines tts as 文本转语音…) stands for its topic: when
a query matches such a note well, the documents tagged with it are about what the
query asks, even where they repeat its words less than others.
"""

from __future__ import annotations

from .ranking import Scores
from .store import Snapshot

# A tag note lifts its documents when it scores at least this share of the best match,
MIN_SHARE = 0.5
# by this share of its own score.
WEIGHT = 0.5
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
    """Bonuses for the documents tagged with the best-matching tag note, if it matches
    well enough and its tag is not on too many documents to say something; and that
    note. Tagged documents without the query's words are included: they are about it."""
    notes = topic_notes(snapshot)
    matched = [(scores[note], note) for note in notes if note in scores]
    if not matched:
        return {}, None
    score, note = max(matched)
    if score < MIN_SHARE * max(scores.values()) or len(notes[note]) > MAX_SHARE * snapshot.live_count:
        return {}, None
    return dict.fromkeys(notes[note], WEIGHT * score), note
