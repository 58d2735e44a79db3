"""Worker processes that index shares of the documents side by side.

A worker is a fresh interpreter (`python -m searchkit.workers`), not a fork: it
cannot inherit the write lock the parent holds, and it does not re-run the caller's
main module. It reads its job as JSON on stdin and writes progress lines, then its
pickled result, on stdout. It writes a new segment that only the parent's commit
makes part of the index; a worker whose parent has gone stops at its next document,
and the files it leaves are deleted by the next commit.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from .errors import SearchkitError
from .results import ProgressCallback
from .shard import Job, ShardResult

PROGRESS_EVERY = 20


def run_shards(
    index_path: Path,
    root: Path,
    shares: list[list[Job]],
    dictionary: list[str],
    progress: ProgressCallback | None,
) -> list[ShardResult]:
    """Index each share in its own worker process; their ShardResults, in order."""
    events: queue.Queue[tuple[int, str]] = queue.Queue()
    processes: list[subprocess.Popen[bytes]] = []
    errors: list[IO[bytes]] = []
    try:
        for number, share in enumerate(shares):
            error_log = tempfile.TemporaryFile()
            errors.append(error_log)
            try:
                process = subprocess.Popen(
                    [sys.executable, "-m", "searchkit.workers"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=error_log,
                )
            except OSError as exc:
                raise SearchkitError(
                    f"cannot start an indexing worker ({exc.strerror}); index in one process with SEARCHKIT_WORKERS=1"
                ) from exc
            processes.append(process)
            job = {
                "index": str(index_path),
                "root": str(root),
                "jobs": [item.to_json() for item in share],
                "dictionary": dictionary,
            }
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps(job, ensure_ascii=False).encode("utf-8"))
            process.stdin.close()
            threading.Thread(target=_relay, args=(number, process.stdout, events), daemon=True).start()
        return _collect(processes, errors, shares, events, progress)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        for log in errors:
            log.close()


def _relay(number: int, stream: IO[bytes], events: queue.Queue[tuple[int, str]]) -> None:
    with stream:
        for line in stream:
            events.put((number, line.decode("utf-8").rstrip("\n")))
    events.put((number, "end"))


def _collect(
    processes: list[subprocess.Popen[bytes]],
    errors: list[IO[bytes]],
    shares: list[list[Job]],
    events: queue.Queue[tuple[int, str]],
    progress: ProgressCallback | None,
) -> list[ShardResult]:
    results: list[ShardResult | None] = [None] * len(processes)
    done = [0] * len(processes)
    total = sum(len(share) for share in shares)
    running = len(processes)
    while running:
        number, line = events.get()
        kind, _, value = line.partition(" ")
        if kind == "progress":
            done[number] = int(value)
            if progress is not None:
                progress(sum(done), total)
        elif kind == "result":
            results[number] = pickle.loads(base64.b64decode(value))
        elif kind == "end":
            running -= 1
            if processes[number].wait() != 0 or results[number] is None:
                raise SearchkitError(f"an indexing worker failed: {_last_line(errors[number])}")
    return [result for result in results if result is not None]


def _last_line(log: IO[bytes]) -> str:
    log.seek(0)
    lines = log.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else "it exited without saying why"


def main() -> None:
    from .analysis import Analyzer
    from .shard import index_shard

    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    analyzer = Analyzer(job["dictionary"])
    parent = os.getppid()

    def report(done: int, total: int) -> None:
        if os.getppid() != parent:  # the parent was killed: its commit will never come
            raise SystemExit(1)
        if done % PROGRESS_EVERY == 0 or done == total:
            print(f"progress {done}", flush=True)

    jobs = [Job.from_json(item) for item in job["jobs"]]
    result = index_shard(Path(job["index"]), Path(job["root"]), jobs, analyzer, progress=report)
    print("result " + base64.b64encode(pickle.dumps(result)).decode("ascii"), flush=True)


if __name__ == "__main__":
    main()
