"""Searches a reader of the vault makes, judged by the files themselves.

Run from the repository root:

    python benchmarks/vault_probes.py                 # the whole vault (../shared/corpus/kb)
    python benchmarks/vault_probes.py --probes 100    # fewer sampled probes per kind

The vault is indexed by searchkit and by the textbook (Whoosh + jieba's ChineseAnalyzer,
OR between words; benchmarks/textbook.py) in a temporary folder. Each probe's right
answer comes from the text of the files (title, summary and body as searchkit's parser
reads them, compared as written), never from a hand-made list:

- `verbatim`: a run of 4–8 Han characters cut from a random note, found in 1–5 notes:
  the share of runs for which every note holding it is in the top 10 (typed unquoted);
- `phrase`: the same kind of run (in 1–50 notes) typed in quotes: precision and recall
  of all hits against the notes holding it;
- `title`: a run of 4–8 Han characters from a title that no other title holds: the
  share for which that note ranks first;
- `version`: model and version names (GPT-5, GPT-4o, DeepSeek-R1, …): recall and
  precision of all hits (up to 1,000) against the notes that mention the name, alone
  or as the start of a longer one (GPT-5.2, GPT-5-Codex);
- `author`: authors with 5 or more notes (`作者`): recall of their notes over all hits,
  and precision in the top 10.

stdout: one JSON object per line ({"bench": "vault_probes", "impl", "probe", "metric",
"value", "probes", "commit"}); stderr: progress and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import git_commit, log
from textbook import Textbook

from searchkit import Index, QueryError, load_document

REPO = Path(__file__).resolve().parents[1]
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
VERSIONS = ("GPT-5", "GPT-4o", "GPT-4", "DeepSeek-R1", "DeepSeek-V3", "Claude 3.5", "Gemini 2.5",
            "Qwen3", "Llama 3", "Sora 2", "o1", "o3", "Claude 4")
ALL_HITS = 1000

Search = Callable[[str, int], list[str]]


def load_vault(folder: Path) -> dict[str, dict[str, str]]:
    """Path → the text a reader sees, by part."""
    notes = {}
    for file in sorted(folder.rglob("*.md")):
        document = load_document(file, folder)
        notes[document.path] = {
            "title": document.title,
            "text": "\n".join((document.title, document.summary, document.body)),
            "author": document.author or "",
        }
    return notes


def holding(notes: dict[str, dict[str, str]], run: str) -> set[str]:
    return {path for path, note in notes.items() if run in note["text"]}


def sample_runs(
    notes: dict[str, dict[str, str]], rng: random.Random, count: int, most: int, part: str = "text"
) -> list[tuple[str, set[str]]]:
    """Runs of 4–8 Han characters cut from random notes (their `part`), held by 1 to
    `most` notes, with those notes."""
    paths = sorted(notes)
    probes: list[tuple[str, set[str]]] = []
    seen: set[str] = set()
    for _ in range(count * 50):
        if len(probes) >= count:
            break
        path = rng.choice(paths)
        runs = HAN_RUN.findall(notes[path][part])
        if not runs:
            continue
        run = rng.choice(runs)
        length = rng.randint(4, min(8, len(run)))
        start = rng.randint(0, len(run) - length)
        piece = run[start : start + length]
        if piece in seen:
            continue
        seen.add(piece)
        where = holding(notes, piece)
        if 1 <= len(where) <= most:
            probes.append((piece, where))
    return probes


def version_truth(notes: dict[str, dict[str, str]], name: str) -> set[str]:
    """Notes naming `name` alone or as the start of a longer name (GPT-5.2, GPT-5-Codex),
    not as part of another number (GPT-50) or word."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![0-9a-z])", re.I)
    return {path for path, note in notes.items() if pattern.search(note["text"])}


def run_probes(
    search: Search, notes: dict[str, dict[str, str]], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    rng = random.Random(args.seed)
    out: dict[str, dict[str, float]] = {}

    verbatim = sample_runs(notes, rng, args.probes, 5)
    found = sum(1 for run, where in verbatim if where <= set(search(run, 10)))
    out["verbatim"] = {"all_in_top10": found / len(verbatim), "probes": len(verbatim)}

    phrases = sample_runs(notes, rng, args.probes, 50)
    returned = relevant = correct = 0
    for run, where in phrases:
        hits = set(search(f'"{run}"', ALL_HITS))
        returned += len(hits)
        relevant += len(where)
        correct += len(hits & where)
    out["phrase"] = {"precision": correct / max(returned, 1), "recall": correct / relevant, "probes": len(phrases)}

    titles = [(run, where) for run, where in sample_runs(notes, rng, args.probes * 3, 50, part="title")
              if sum(run in note["title"] for note in notes.values()) == 1][: args.probes]
    first = 0
    for run, _ in titles:
        titled = next(path for path, note in notes.items() if run in note["title"])
        hits = search(run, 1)
        first += bool(hits) and hits[0] == titled
    out["title"] = {"first": first / max(len(titles), 1), "probes": len(titles)}

    found_versions = wanted_versions = returned_versions = 0
    for name in VERSIONS:
        truth = version_truth(notes, name)
        hits = set(search(name, ALL_HITS))
        found_versions += len(truth & hits)
        wanted_versions += len(truth)
        returned_versions += len(hits)
    out["version"] = {"recall": found_versions / max(wanted_versions, 1),
                      "precision": found_versions / max(returned_versions, 1), "probes": len(VERSIONS)}

    authors: dict[str, set[str]] = {}
    for path, note in notes.items():
        if note["author"]:
            authors.setdefault(note["author"], set()).add(path)
    authors = {name: paths for name, paths in authors.items() if len(paths) >= 5 and "," not in name}
    recall = precision = 0.0
    for name, paths in authors.items():
        hits = search(name, ALL_HITS)
        recall += len(set(hits) & paths) / len(paths)
        precision += len(set(hits[:10]) & paths) / max(len(hits[:10]), 1)
    out["author"] = {"recall": recall / max(len(authors), 1), "precision@10": precision / max(len(authors), 1),
                     "probes": len(authors)}
    return out


def searchkit_search(ix: Index) -> Search:
    def search(query: str, limit: int) -> list[str]:
        try:
            return [hit.path for hit in ix.search(query, limit=limit)]
        except QueryError:
            return []

    return search


def textbook_search(textbook: Textbook) -> Search:
    def search(query: str, limit: int) -> list[str]:
        return textbook.paths(query, limit)

    return search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "corpus" / "kb")
    parser.add_argument("--probes", type=int, default=300, help="sampled probes per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-textbook", action="store_true")
    args = parser.parse_args()
    commit = git_commit()
    rows = []
    with tempfile.TemporaryDirectory(prefix="searchkit-probes-") as tmp:
        vault = Path(tmp) / "vault"
        shutil.copytree(args.corpus.resolve(), vault, ignore=shutil.ignore_patterns(".*"))
        notes = load_vault(vault)
        log(f"{len(notes)} notes")
        engines: dict[str, Search] = {}
        started = time.perf_counter()
        ix = Index(Path(tmp) / "sk")
        ix.update(vault)
        log(f"searchkit indexed in {time.perf_counter() - started:.1f}s")
        engines["searchkit"] = searchkit_search(ix)
        if not args.no_textbook:
            started = time.perf_counter()
            Textbook(Path(tmp) / "tb").build(vault)
            log(f"textbook indexed in {time.perf_counter() - started:.1f}s")
            engines["textbook-or"] = textbook_search(Textbook(Path(tmp) / "tb", group="or"))
        for impl, search in engines.items():
            started = time.perf_counter()
            for probe, metrics in run_probes(search, notes, args).items():
                for metric, value in metrics.items():
                    row = {"bench": "vault_probes", "impl": impl, "probe": probe, "metric": metric,
                           "value": round(value, 4), "commit": commit}
                    print(json.dumps(row, ensure_ascii=False), flush=True)
                    rows.append(row)
            log(f"{impl}: probes in {time.perf_counter() - started:.1f}s")
    log(table(rows))


def table(rows: list[dict]) -> str:
    columns = sorted({(r["probe"], r["metric"]) for r in rows if r["metric"] != "probes"})
    impls = list(dict.fromkeys(r["impl"] for r in rows))
    values = {(r["impl"], r["probe"], r["metric"]): r["value"] for r in rows}
    counts = {r["probe"]: int(r["value"]) for r in rows if r["metric"] == "probes"}
    head = [f"{probe} {metric} (n={counts.get(probe, 0)})" for probe, metric in columns]
    lines = ["| impl | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for impl in impls:
        cells = [f"{values.get((impl, p, m), float('nan')):.3f}" for p, m in columns]
        lines.append(f"| {impl} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
