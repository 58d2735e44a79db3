"""Topics: the vault's own tag notes. A note that a tag links to (`[[00-元语/tts]]`
links to `00-元语/tts.md`, which defines tts as 文本转语音…) stands for its topic: when
a query matches such a note well, the documents tagged with it are about what the
query asks, even where they repeat its words less than others.
"""

from __future__ import annotations

from .arrays import Scores, Vector, mask
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


def _link_values(snapshot: Snapshot) -> frozenset[str]:
    """The tag values that are wiki-link targets (`00-元语/tts`); once per commit."""
    found = snapshot.memo.get("link values")
    if found is None:
        found = snapshot.memo["link values"] = frozenset(v for v in snapshot.keyword_values("tag") if "/" in v)
    return found


def _linked_as(path: str, values: frozenset[str]) -> str | None:
    """The link target that reaches the document at `path`: its path without the
    suffix, or a tail of it (`[[00-元语/tts]]` reaches `vault/00-元语/tts.md`, as in
    Obsidian)."""
    parts = path.lower().rsplit(".", 1)[0].split("/")
    for start in range(len(parts) - 1):
        tail = "/".join(parts[start:])
        if tail in values:
            return tail
    return None


def _tag_notes(snapshot: Snapshot) -> tuple[dict[int, str], Vector]:
    """The documents that tag links reach, with the tag each stands for, and a mask
    of them; once per commit."""
    found = snapshot.memo.get("tag notes")
    if found is None:
        values = _link_values(snapshot)
        notes = {}
        for docnum, path in snapshot.paths().items() if values else ():
            value = _linked_as(path, values)
            if value is not None:
                notes[docnum] = value
        found = snapshot.memo["tag notes"] = (notes, mask(snapshot.doc_count, notes))
    return found


def topic_bonuses(snapshot: Snapshot, scores: Scores) -> tuple[Scores, int | None]:
    """Bonuses for the documents tagged with the best-matching tag note, and that note:
    when the note scores near the best, its tag is not on too many documents to say
    something, and the best other matches carry the tag too (a tag note is short, so
    it ranks high for any word it has: 人工智能 is not a query about OpenAI). Tagged
    documents without the query's words are included: they are about it."""
    nothing = Scores.none(snapshot.doc_count)
    notes, among = _tag_notes(snapshot)
    if not notes:
        return nothing, None
    least = MIN_SHARE * scores.highest()
    strong = sorted(((scores[docnum], docnum) for docnum in scores.at_least(least, among)), reverse=True)
    for score, note in strong:
        value = notes[note]
        tagged = snapshot.keyword_documents("tag", value) - {note}
        if not MIN_TAGGED <= len(tagged) <= MAX_SHARE * snapshot.live_count:
            return nothing, None
        best = sorted(scores.best(TOP_MATCHES), key=lambda docnum: (-scores[docnum], docnum))[:TOP_MATCHES]
        others = [docnum for docnum in best if docnum not in notes]
        if len(others) >= MIN_OTHERS and sum(docnum in tagged for docnum in others) < MIN_AGREEING * len(others):
            return nothing, None
        return Scores.of(snapshot.doc_count, tagged, WEIGHT * score), note
    return nothing, None
