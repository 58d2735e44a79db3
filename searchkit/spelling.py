"""Latin words as people mistype them: one or two letters off (`Cluade`, `Antropic`)
or two words run together (`ClaudeCode`). Candidates come from the index's own
vocabulary, so the vault's jargon is what a word is corrected to.

A word is corrected only when it finds (almost) nothing and the candidate is far
more common; the search then looks for both, and the results say what was
corrected.
"""

from __future__ import annotations

from .store import Snapshot

VOCABULARY_FIELDS = ("title", "tags", "summary", "body")
# Words shorter than this are not corrected (too many neighbours one edit away).
MIN_TYPO_LENGTH = 5
TWO_TYPOS_LENGTH = 9  # from this length, two edits
MIN_PART_LENGTH = 3  # each word of a run-together pair
# A correction must be found in this many times the documents of the word as typed
# (plus one), so that a rare but real word is left alone.
COMMONER = 20


def vocabulary(snapshot: Snapshot) -> dict[str, int]:
    """Latin words (letters only) of the index → documents holding them, summed over
    the text fields; built once per commit, on the first query that needs it."""
    found = snapshot.memo.get("vocabulary")
    if found is None:
        found = {}
        for postings, _ in snapshot.segments:
            for name in VOCABULARY_FIELDS:
                table = postings.field(name)
                for i, term in enumerate(table.terms):
                    if len(term) >= MIN_PART_LENGTH and term.isascii() and term.isalpha():
                        found[term] = found.get(term, 0) + table.doc_counts[i]
        snapshot.memo["vocabulary"] = found
    return found


def is_candidate(word: str) -> bool:
    return len(word) >= MIN_TYPO_LENGTH and word.isascii() and word.isalpha()


def _by_start(snapshot: Snapshot) -> dict[tuple[str, int], list[tuple[str, int]]]:
    """The vocabulary by (first letter, length), most documents first: a word's
    candidates are only those of its first letter and about its length."""
    found = snapshot.memo.get("vocabulary by start")
    if found is None:
        found = {}
        for term, count in sorted(vocabulary(snapshot).items(), key=lambda item: -item[1]):
            found.setdefault((term[0], len(term)), []).append((term, count))
        snapshot.memo["vocabulary by start"] = found
    return found


def correction(snapshot: Snapshot, word: str) -> str | None:
    """The common word of the index that `word` (lowercase letters) is a typo of, if
    it finds almost nothing and one is one edit away (two from TWO_TYPOS_LENGTH
    letters), the first letter kept."""
    least = COMMONER * (vocabulary(snapshot).get(word, 0) + 1)
    allowed = 2 if len(word) >= TWO_TYPOS_LENGTH else 1
    by_start = _by_start(snapshot)
    best: tuple[int, int, str] | None = None  # fewest edits, then most documents
    for length in range(len(word) - allowed, len(word) + allowed + 1):
        for term, count in by_start.get((word[0], length), ()):
            if count < least:
                break  # most documents first: the rest are rarer still
            if term != word:
                edits = edit_distance(word, term, allowed)
                if edits <= allowed and (best is None or (edits, -count) < best[:2]):
                    best = (edits, -count, term)
    return best[2] if best else None


def split_words(snapshot: Snapshot, word: str) -> tuple[str, str] | None:
    """Two common words of the index that `word` runs together (`claudecode`), when
    each is far more common than the run: the split with the commoner rarer half."""
    words = vocabulary(snapshot)
    least = COMMONER * (words.get(word, 0) + 1)
    best, best_count = None, least - 1
    for cut in range(MIN_PART_LENGTH, len(word) - MIN_PART_LENGTH + 1):
        left, right = word[:cut], word[cut:]
        count = min(words.get(left, 0), words.get(right, 0))
        if count > best_count:
            best, best_count = (left, right), count
    return best


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts as one edit),
    stopping early once every alignment exceeds `limit`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            cost = 0 if char == other else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
