"""Retrieval quality of searchkit against the textbook Whoosh + jieba baseline.

Run from the repository root:

    python benchmarks/quality.py                       # all sets, all queries, plain and mixed
    python benchmarks/quality.py --sets drcd --limit-queries 200 --no-mixed

For each evaluation package (docs/*.md, queries.tsv, qrels.tsv; see
../shared/eval/README.md) it builds, in a temporary folder, a searchkit index and a
textbook index (benchmarks/textbook.py), runs every query with limit 10 and scores
MRR@10, Recall@10 and nDCG@10 (binary relevance). Impls: `searchkit`,
`textbook-or` and `textbook-and` (the textbook index read with OR / AND between the
words; the two share one index). Results go to stdout as JSON lines; progress and a
Markdown table go to stderr.

Mixed runs (set `NAME+vault`): the same queries and judgments over the set's passages
indexed together with the whole vault (../shared/corpus/kb), whose long notes are
distractors no question was written for: a ranking that favours documents matching
many words by accident shows here.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import git_commit, log
from textbook import Textbook

from searchkit import Index, QueryError

REPO = Path(__file__).resolve().parents[1]
SETS = ("cmrc2018", "drcd", "drcd_simpq")
METRICS = ("mrr@10", "recall@10", "ndcg@10")
K = 10


def read_tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text("utf-8").splitlines() if line]


def load_set(folder: Path, limit: int | None, seed: int) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    qrels: dict[str, set[str]] = {}
    for qid, docid, rel in read_tsv(folder / "qrels.tsv"):
        if int(rel) > 0:
            qrels.setdefault(qid, set()).add(docid)
    queries = [(qid, text) for qid, text in read_tsv(folder / "queries.tsv") if qid in qrels]
    if limit is not None and limit < len(queries):
        keep = set(random.Random(seed).sample(range(len(queries)), limit))
        queries = [q for i, q in enumerate(queries) if i in keep]
    return queries, qrels


def score(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    top = ranked[:K]
    hits = [i for i, docid in enumerate(top) if docid in relevant]
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), K)))
    return {
        "mrr@10": 1 / (hits[0] + 1) if hits else 0.0,
        "recall@10": len(relevant & set(top)) / len(relevant),
        "ndcg@10": sum(1 / math.log2(i + 2) for i in hits) / ideal,
    }


def evaluate(
    search: Callable[[str], list[str]], queries: list[tuple[str, str]], qrels: dict[str, set[str]]
) -> tuple[dict[str, float], float]:
    totals = dict.fromkeys(METRICS, 0.0)
    started = time.perf_counter()
    for qid, text in queries:
        for metric, value in score(search(text), qrels[qid]).items():
            totals[metric] += value
    elapsed = time.perf_counter() - started
    return {m: v / len(queries) for m, v in totals.items()}, elapsed


class SearchkitRun:
    """searchkit's search as a list of stems, counting what went wrong along the way."""

    def __init__(self, ix: Index) -> None:
        self.ix = ix
        self.errors: list[tuple[str, str]] = []
        self.empty = 0
        self.partial = 0

    def __call__(self, query: str) -> list[str]:
        try:
            results = self.ix.search(query, limit=K)
        except QueryError as exc:
            self.errors.append((query, exc.hint))
            return []
        self.empty += not results.hits
        self.partial += results.match == "partial"
        return [_docid(hit.path) for hit in results]


def _docid(path: str) -> str:
    """A passage's id is its file stem; a vault note (mixed runs) is never relevant."""
    return Path(path).stem if "/" not in path or path.startswith(PASSAGES + "/") else f"vault:{path}"


PASSAGES = "passages"  # the folder of the set's passages in a mixed run


def mixed_folder(docs: Path, corpus: Path, target: Path, qrels: dict[str, set[str]]) -> Path:
    """The passages and the vault side by side in one folder to index."""
    shutil.copytree(docs, target / PASSAGES)
    shutil.copytree(corpus, target / "vault", ignore=shutil.ignore_patterns(".*"))
    relevant = {docid for docids in qrels.values() for docid in docids}
    clashes = [p for p in (target / "vault").rglob("*.md") if p.stem in relevant]
    if clashes:
        raise SystemExit(f"vault notes named like passages would count as relevant: {clashes[:3]}")
    return target


def run_set(
    name: str, folder: Path, tmp: Path, args: argparse.Namespace, commit: str, *, mixed: bool = False
) -> list[dict]:
    queries, qrels = load_set(folder, args.limit_queries, args.seed)
    docs = folder / "docs"
    if mixed:
        docs = mixed_folder(docs, args.corpus.resolve(), tmp / f"{name}-mixed-docs", qrels)
        name = f"{name}+vault"
    log(f"[{name}] {len(queries)} queries, {sum(1 for _ in docs.rglob('*.md'))} docs")
    rows = []

    def emit(impl: str, metric: str, value: float) -> None:
        row = {"bench": "quality", "set": name, "impl": impl, "metric": metric,
               "value": round(value, 4), "queries": len(queries), "commit": commit}
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)

    started = time.perf_counter()
    ix = Index(tmp / name / "sk")
    stats = ix.update(docs)
    build = time.perf_counter() - started
    if stats.skipped or stats.warnings:
        log(f"[{name}] searchkit skipped {len(stats.skipped)}, warnings {len(stats.warnings)}")
    log(f"[{name}] searchkit indexed {stats.documents} docs in {build:.1f}s")
    run = SearchkitRun(ix)
    values, elapsed = evaluate(run, queries, qrels)
    for metric, value in values.items():
        emit("searchkit", metric, value)
    emit("searchkit", "build_seconds", build)
    emit("searchkit", "search_seconds", elapsed)
    emit("searchkit", "query_errors", len(run.errors))
    log(f"[{name}] searchkit searched in {elapsed:.1f}s: {len(run.errors)} QueryError, "
        f"{run.empty} empty, {run.partial} partial matches")
    for query, hint in run.errors[:5]:
        log(f"    QueryError {query!r}: {hint}")

    if args.no_textbook:
        return rows
    started = time.perf_counter()
    Textbook(tmp / name / "tb").build(docs)
    build = time.perf_counter() - started
    log(f"[{name}] textbook indexed in {build:.1f}s")
    for group in ("or", "and"):
        impl = f"textbook-{group}"
        textbook = Textbook(tmp / name / "tb", group=group)
        values, elapsed = evaluate(lambda q: textbook.search(q, K), queries, qrels)  # noqa: B023 - called here
        textbook.close()
        for metric, value in values.items():
            emit(impl, metric, value)
        emit(impl, "build_seconds", build)  # one index serves both groups
        emit(impl, "search_seconds", elapsed)
        log(f"[{name}] {impl} searched in {elapsed:.1f}s")
    return rows


def table(rows: list[dict]) -> str:
    cells: dict[tuple[str, str], dict[str, float]] = {}
    for row in rows:
        cells.setdefault((row["set"], row["impl"]), {})[row["metric"]] = row["value"]
    lines = ["| set | impl | MRR@10 | R@10 | nDCG@10 | build s | search s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for (name, impl), m in cells.items():
        lines.append(f"| {name} | {impl} | {m['mrr@10']:.3f} | {m['recall@10']:.3f} | {m['ndcg@10']:.3f} "
                     f"| {m['build_seconds']:.1f} | {m['search_seconds']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated packages")
    parser.add_argument("--eval-dir", type=Path, default=REPO / ".." / "shared" / "eval")
    parser.add_argument("--limit-queries", type=int, help="score a seeded sample of N queries per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "corpus" / "kb",
                        help="the vault added to each set in the mixed runs")
    parser.add_argument("--no-mixed", action="store_true", help="only the plain runs")
    parser.add_argument("--no-textbook", action="store_true", help="searchkit only (quick runs while tuning)")
    args = parser.parse_args()
    eval_dir = args.eval_dir.resolve()
    commit = git_commit()
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets.split(","):
            rows += run_set(name, eval_dir / name, Path(tmp), args, commit)
        for name in [] if args.no_mixed else args.sets.split(","):
            rows += run_set(name, eval_dir / name, Path(tmp), args, commit, mixed=True)
    log(f"\ncommit {commit}, {time.perf_counter() - started:.0f}s in all\n")
    log(table(rows))


if __name__ == "__main__":
    main()
