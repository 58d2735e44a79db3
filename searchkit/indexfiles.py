"""The small files of an index folder beside Whoosh's: `searchkit.json` (the format
and analyzer versions, the folder the index was built from, the dictionary in
effect, the files skipped and those still to index again) and the user's
`dictionary.txt`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .analysis import ANALYZER_VERSION
from .errors import DocumentError

INDEX_FORMAT = 7
META_FILE = "searchkit.json"
USER_DICTIONARY_FILE = "dictionary.txt"


class IndexFiles:
    """How `Store` reads and writes them (`path`: the index folder)."""

    path: Path
    _metadata: tuple[Any, dict[str, Any]]

    def metadata(self) -> dict[str, Any]:
        """The contents of `searchkit.json` (read again only when the file changed)."""
        meta_file = self.path / META_FILE
        try:
            info = meta_file.stat()
            if self._metadata[0] != (info.st_mtime_ns, info.st_size):
                self._metadata = ((info.st_mtime_ns, info.st_size), json.loads(meta_file.read_text("utf-8")))
        except (OSError, ValueError):
            return {}
        return self._metadata[1]

    def write_metadata(
        self, root: Path, dictionary: set[str], skipped: dict[str, list[str]], pending: list[str]
    ) -> None:
        """`skipped`: path → [fingerprint, reason] of each file the last run skipped;
        `pending`: unchanged documents still to be indexed again for the dictionary."""
        meta = {
            "format": INDEX_FORMAT,
            "analyzer": ANALYZER_VERSION,
            "root": str(root.resolve()),
            "dictionary": sorted(dictionary),
            "skipped": skipped,
            "pending": pending,
        }
        _replace_text(self.path / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2))

    def read_user_words(self) -> list[str]:
        """The lines of `dictionary.txt`, `#` comments and blank lines left out."""
        path = self.path / USER_DICTIONARY_FILE
        try:
            lines = path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentError(path, f"cannot read the dictionary: {exc}") from exc
        return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]

    def write_user_words(self, words: list[str]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        header = "# searchkit user dictionary: one word per line; applied by the next `searchkit index`\n"
        _replace_text(self.path / USER_DICTIONARY_FILE, header + "".join(f"{w}\n" for w in words))


def _replace_text(path: Path, text: str) -> None:
    """Write through a temporary file, so a reader never sees half of it."""
    temporary = path.with_name(f"{path.name}.tmp")
    temporary.write_text(text, "utf-8")
    os.replace(temporary, path)
