"""How searchkit scales: index time, size, memory and query latency on synthetic vaults.

Run from the repository root:

    python benchmarks/scale.py                          # 10k, 30k and 100k documents (~12 min)
    python benchmarks/scale.py --sizes 3000,10000       # a quicker look
    python benchmarks/scale.py --sizes 30000 --keep /tmp/scale   # keep the vault and index (for breakdown.py)

Each synthetic vault is a seeded recombination of the real vault's paragraphs (so the
vocabulary and the mix of Chinese, English and code are realistic): every document gets a
real title with a number, a date, 1–4 real tags and 4–20 paragraphs drawn from the whole
vault. Indexing runs in a fresh process (peak RSS: the summed RSS of it and its worker
processes, sampled every 20 ms, or its own ru_maxrss if larger); queries are
the speed benchmark's 30 realistic ones, top 10 with snippets, timed 3 times after a warm-up.
JSON lines on stdout, a table on stderr. Everything is written to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, git_commit, log
from speed import QUERIES, TreeMemory

INDEX_SCRIPT = "import sys; from searchkit import Index; Index(sys.argv[1]).update(sys.argv[2])"


def paragraphs_and_names(corpus: Path) -> tuple[list[str], list[str], list[str]]:
    from searchkit import load_document

    paragraphs, titles, tags = [], [], set()
    for path in sorted(corpus.rglob("*.md")):
        document = load_document(path, corpus)
        titles.append(document.title)
        tags.update(document.tags)
        paragraphs.extend(p for p in re.split(r"\n\s*\n", document.body) if len(p) > 20)
    return paragraphs, titles, sorted(tags)


def write_vault(target: Path, size: int, seed: int, corpus: Path) -> None:
    rng = random.Random(seed)
    paragraphs, titles, tags = paragraphs_and_names(corpus)
    for number in range(size):
        folder = target / f"{number // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        chosen_tags = "\n".join(f"- [[00-元语/{t}]]" for t in rng.sample(tags, rng.randint(1, 4)))
        body = "\n\n".join(rng.sample(paragraphs, rng.randint(4, 20)))
        date = f"20{rng.randint(19, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        title = f"{rng.choice(titles)} {number}".replace('"', "'")
        text = f'---\ntitle: "{title}"\n发布日期: {date}\n---\n\n## 正文\n\n{body}\n\n## 关联主题\n\n{chosen_tags}\n'
        (folder / f"doc{number:06d}.md").write_text(text, "utf-8")


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "kb")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the vaults and indexes here and keep them (for profiling)")
    args = parser.parse_args()
    if not any(args.corpus.rglob("*.md")):
        raise SystemExit(f"no Markdown files under {args.corpus}; give the vault with --corpus")
    commit = git_commit()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            kept = args.keep / str(size) if args.keep else Path(tmp)
            vault, index = kept / "vault", kept / "index"
            if vault.exists() or index.exists():
                raise SystemExit(f"{kept} already holds a vault or an index; give an empty --keep folder")
            started = time.perf_counter()
            write_vault(vault, size, args.seed, args.corpus)
            log(f"[{size}] vault written in {time.perf_counter() - started:.0f} s ({folder_mib(vault):.0f} MiB)")
            started = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-c", INDEX_SCRIPT, str(index), str(vault)])
            memory = TreeMemory(process.pid)
            memory.start()
            _, status, usage = os.wait4(process.pid, 0)
            index_s = time.perf_counter() - started
            memory.stop()
            if status != 0:
                raise SystemExit(f"indexing {size} documents failed with status {status}")
            from searchkit import Index

            ix = Index(index)
            for query in QUERIES:
                ix.search(query)
            timings = []
            for _ in range(3):
                for query in QUERIES:
                    begin = time.perf_counter()
                    ix.search(query)
                    timings.append((time.perf_counter() - begin) * 1000)
            ix.close()
            timings.sort()
            row = {
                "documents": size,
                "index_s": round(index_s, 1),
                "index_mib": round(folder_mib(index), 1),
                # the indexing process and its workers together
                "peak_rss_mib": round(max(usage.ru_maxrss, memory.peak_kib) / 1024),
                "query_p50_ms": round(statistics.median(timings), 2),
                "query_p95_ms": round(timings[int(len(timings) * 0.95)], 2),
            }
            rows.append(row)
            for metric, value in row.items():
                if metric != "documents":
                    print(json.dumps({"bench": "scale", "impl": "searchkit", "metric": metric, "value": value,
                                      "documents": size, "commit": commit}), flush=True)
            log(f"[{size}] {row}")
    log("| documents | index s | s per 1k docs | index MiB | peak RSS MiB | query p50 ms | p95 ms |")
    log("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        per_k = row["index_s"] / row["documents"] * 1000
        log(f"| {row['documents']:,} | {row['index_s']} | {per_k:.1f} | {row['index_mib']} | "
            f"{row['peak_rss_mib']} | {row['query_p50_ms']} | {row['query_p95_ms']} |")


if __name__ == "__main__":
    main()
