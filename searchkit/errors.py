"""Errors that searchkit raises for conditions a user can fix.

    SearchkitError                 base; its message is one line meant for a user
    ├── DocumentError(path, reason)        a file could not be read or parsed
    ├── IndexNotFoundError(path)           no index at that location yet
    ├── IndexLockedError(path)             another process is writing the index
    ├── IndexVersionError(path, found, expected)   built by an incompatible version
    └── QueryError(query, position, hint)  the query cannot be understood
        └── OptionError(query, option, hint)   a search option (limit, sort, facets…) cannot be used

Each class composes its message from its attributes and names the fix, so tests can
assert on attributes rather than wording.
"""

from __future__ import annotations

from pathlib import Path


class SearchkitError(Exception):
    """Base of every error searchkit raises for a user's mistake or a bad input."""


class DocumentError(SearchkitError):
    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class IndexNotFoundError(SearchkitError):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        where = Path(path).resolve()
        super().__init__(f"no index at {where}; build it with: searchkit index DIR --index {where}")


class IndexLockedError(SearchkitError):
    def __init__(self, path: str | Path, holder: str | None = None) -> None:
        self.path = str(path)
        self.holder = holder
        who = f" ({holder})" if holder else ""
        super().__init__(
            f"the index at {self.path} is being updated by another process{who}; "
            "try again when it has finished"
        )


class IndexDamagedError(SearchkitError):
    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(
            f"the index at {self.path} is damaged ({reason}); "
            f"rebuild it with: searchkit index --rebuild DIR --index {self.path}"
        )


class IndexVersionError(SearchkitError):
    def __init__(self, path: str | Path, found: object, expected: object) -> None:
        self.path = str(path)
        self.found = found
        self.expected = expected
        super().__init__(
            f"the index at {self.path} was built by an incompatible version of searchkit "
            f"(format {found}, this version reads {expected}); "
            f"rebuild it with: searchkit index --rebuild DIR --index {self.path}"
        )


class QueryError(SearchkitError):
    def __init__(self, query: str, hint: str, position: int | None = None) -> None:
        self.query = query
        self.hint = hint
        self.position = position
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"cannot read the query {_excerpt(query, position)!r}{where}: {hint}")


QUERY_SHOWN_CHARS = 60


def _excerpt(query: str, position: int | None) -> str:
    """A long query cut down to the part around `position`, so the message stays a line."""
    if len(query) <= QUERY_SHOWN_CHARS:
        return query
    middle = position if position is not None else 0
    start = max(0, min(middle - QUERY_SHOWN_CHARS // 2, len(query) - QUERY_SHOWN_CHARS))
    end = start + QUERY_SHOWN_CHARS
    return ("…" if start else "") + query[start:end] + ("…" if end < len(query) else "")


class OptionError(QueryError):
    def __init__(self, query: str, option: str, hint: str) -> None:
        super().__init__(query, hint)
        self.option = option
        self.args = (f"{option}: {hint}",)
