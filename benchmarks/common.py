"""What every benchmark script shares: stderr logging and the commit being measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def git_commit() -> str:
    """HEAD's short sha, with -dirty when searchkit/ has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--", "searchkit") else "")
