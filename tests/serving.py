"""Running `searchkit serve` / `searchkit watch` as real processes for the tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import REPO

START_DEADLINE_S = 60
STOP_DEADLINE_S = 10


class Running:
    """A searchkit process with its output gathered line by line as it comes."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "searchkit", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=_gather, args=(stream, lines), daemon=True)
            for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def wait_for_line(self, test: Callable[[str], bool], deadline_s: float = START_DEADLINE_S) -> str:
        started = time.monotonic()
        while time.monotonic() - started < deadline_s:
            for line in self.stdout:
                if test(line):
                    return line
            if self.process.poll() is not None:
                time.sleep(0.2)  # what it printed last
                raise AssertionError(f"exited with {self.process.returncode}: {''.join(self.stderr)}")
            time.sleep(0.05)
        raise AssertionError(f"no such line within {deadline_s} s; stdout: {self.stdout} stderr: {self.stderr}")

    def stop(self, sig: int = signal.SIGTERM) -> float:
        """Send `sig`; the seconds it took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"still running {STOP_DEADLINE_S} s after signal {sig}") from None
        elapsed = time.monotonic() - started
        for reader in self._readers:
            reader.join(STOP_DEADLINE_S)
        return elapsed


def _gather(stream: Any, lines: list[str]) -> None:
    with stream:
        for line in stream:
            lines.append(line)


def serve(folder: Path, index: Path, *options: str) -> tuple[Running, str]:
    """Start `searchkit serve` on a free port; it and its URL once it listens."""
    running = Running("serve", str(folder), "--index", str(index), "--port", "0", *options)
    url = running.wait_for_line(lambda line: line.startswith("http://")).strip()
    return running, url


def get_json(url: str, path: str, **params: str) -> Any:
    with urllib.request.urlopen(f"{url}{path}?{urllib.parse.urlencode(params)}", timeout=30) as answer:
        return json.loads(answer.read().decode("utf-8"))


def poll(check: Callable[[], bool], deadline_s: float) -> float:
    """Seconds until `check()` held; AssertionError after `deadline_s`."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > deadline_s:
            raise AssertionError(f"not within {deadline_s} s")
        time.sleep(0.05)
