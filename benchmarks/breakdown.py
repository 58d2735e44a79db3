"""Where a warm query's time goes: the speed benchmark's 30 queries under cProfile,
the time of each function put into one part of the query's work.

Run from the repository root, on an index built from the vault:

    searchkit index ../shared/corpus/kb --index /tmp/vaultidx
    python benchmarks/breakdown.py --index /tmp/vaultidx
    python benchmarks/breakdown.py --index /tmp/vaultidx --uncached   # every hit's file read again
    python benchmarks/breakdown.py --index /tmp/vaultidx --prefix     # the queries as typed

Each query runs once untimed, then `--repeats` times under the profiler. A built-in's
own time (zlib, set operations, sorting) goes to the part of the code that called
it, in proportion to the time each caller spent in it. The wall time per query is
measured without the profiler, which roughly doubles it. `--uncached` empties the
prepared-snippet cache before each query, as for a query whose hits were never shown.

stdout: JSON lines {"bench": "profile", "part", "ms_per_query", "share", "commit"},
and one with the unprofiled "wall_ms_per_query"; stderr: a Markdown table.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from pathlib import Path

from common import git_commit, log
from speed import QUERIES, as_typed

# (module file, function or "*") → part; the first match wins
PARTS: tuple[tuple[str, str, str], ...] = (
    ("search.py", "order", "top-k"),
    ("search.py", "count_facets", "facets"),
    ("search.py", "current_text", "snippet file read & parse"),
    ("search.py", "*", "hits: stored fields, snippet text"),
    ("documents.py", "*", "snippet file read & parse"),
    ("frontmatter", "*", "snippet file read & parse"),
    ("yaml", "*", "snippet file read & parse"),
    ("highlight.py", "*", "highlighting"),
    ("postings.py", "*", "postings decode"),
    ("ranking.py", "*", "scoring"),
    ("arrays.py", "*", "scoring"),
    ("topics.py", "*", "scoring"),
    ("spelling.py", "*", "scoring"),
    ("plan.py", "*", "query parse & plan"),
    ("query.py", "*", "query parse & plan"),
    ("analysis.py", "*", "segmentation & normalisation"),
    ("store.py", "*", "stored fields & snapshot"),
    ("records.py", "*", "stored fields & snapshot"),
    ("whoosh", "*", "stored fields & snapshot"),
)


def part_of(function: tuple[str, int, str]) -> str | None:
    filename, _, name = function
    for module, wanted, part in PARTS:
        if module in filename and wanted in ("*", name):
            return part
    return None


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per part; built-ins and library code called from several
    parts are shared out among their callers."""
    table = stats.stats  # type: ignore[attr-defined]
    parts: dict[str, float] = {}

    def owner(function: tuple[str, int, str], seen: frozenset[tuple[str, int, str]]) -> dict[str, float]:
        """Share of `function`'s time per part, following callers up when it has none."""
        part = part_of(function)
        if part is not None:
            return {part: 1.0}
        callers = table[function][4]
        total = sum(entry[2] for entry in callers.values()) or 1.0
        shares: dict[str, float] = {}
        for caller, entry in callers.items():
            if caller in seen or caller not in table:
                continue
            for name, share in owner(caller, seen | {caller}).items():
                shares[name] = shares.get(name, 0.0) + share * entry[2] / total
        return shares or {"other": 1.0}

    for function, (_, _, own, _, _) in table.items():
        for name, share in owner(function, frozenset({function})).items():
            parts[name] = parts.get(name, 0.0) + own * share
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--uncached", action="store_true", help="read every hit's file again")
    parser.add_argument("--prefix", action="store_true", help="the queries cut after every character")
    args = parser.parse_args()

    from searchkit import Index
    from searchkit.search import PREPARED

    index = Index(args.index)
    queries = [cut for query in QUERIES for cut in as_typed(query)] if args.prefix else list(QUERIES)

    def run_all() -> None:
        for query in queries:
            if args.uncached:
                PREPARED.clear()
            index.search(query, limit=10, prefix=args.prefix)

    run_all()
    started = time.perf_counter()
    for _ in range(args.repeats):
        run_all()
    runs = args.repeats * len(queries)
    wall_ms = (time.perf_counter() - started) / runs * 1000
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeats):
        run_all()
    profiler.disable()
    parts = breakdown(pstats.Stats(profiler))
    total = sum(parts.values())
    commit = git_commit()
    mode = "prefix" if args.prefix else "uncached" if args.uncached else "warm"
    print(json.dumps({"bench": "profile", "mode": mode, "wall_ms_per_query": round(wall_ms, 2), "commit": commit}))
    log(f"{mode}: {wall_ms:.2f} ms per query without the profiler, {len(queries)} queries × {args.repeats}")
    log("| part | ms per query (profiled) | share |")
    log("| --- | --- | --- |")
    for name, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        ms = seconds / runs * 1000
        print(json.dumps({"bench": "profile", "mode": mode, "part": name, "ms_per_query": round(ms, 3),
                          "share": round(seconds / total, 3), "commit": commit}, ensure_ascii=False))
        log(f"| {name} | {ms:.2f} | {seconds / total:.0%} |")


if __name__ == "__main__":
    main()
