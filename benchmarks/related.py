"""Related documents: does `searchkit related` find the files an author linked by hand?

Run from the repository root:

    python benchmarks/related.py                 # the whole vault
    python benchmarks/related.py --sample 300    # a seeded sample of the linking files

Many vault files list related documents under `## 相关文档` with wiki-links. The vault is
copied to a temporary folder with those sections removed (so the link titles cannot leak
into the text), indexed, and for every file that had such links we ask for its top 10
related documents: recall@10 is the share of its linked files among them. The baseline
ranks every other file by tag overlap (Jaccard of the `## 关联主题` tags). JSON lines on
stdout, a table on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from common import git_commit

from searchkit import Index, load_document

REPO = Path(__file__).resolve().parents[1]
RELATED_SECTION = re.compile(r"^## 相关文档\s*$(.*?)(?=^## |\Z)", re.M | re.S)
LINK = re.compile(r"\[\[([^\]\|#]+)")


def prepare(corpus: Path, target: Path) -> dict[str, set[str]]:
    """Copy the vault without 相关文档 sections; return path → linked paths."""
    files = {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.md")}
    links: dict[str, set[str]] = {}
    for rel in sorted(files):
        text = (corpus / rel).read_text("utf-8")
        section = RELATED_SECTION.search(text)
        if section:
            linked = {f"{m.strip()}.md" for m in LINK.findall(section.group(1))} & files - {rel}
            if linked:
                links[rel] = linked
            text = text[: section.start()] + text[section.end() :]
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
    return links


def tag_overlap(tags: dict[str, set[str]], path: str, limit: int) -> list[str]:
    mine = tags[path]
    scored = []
    for other, theirs in tags.items():
        if other != path and mine and theirs:
            overlap = len(mine & theirs) / len(mine | theirs)
            if overlap:
                scored.append((-overlap, other))
    return [other for _, other in sorted(scored)[:limit]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "corpus" / "kb")
    parser.add_argument("--sample", type=int, help="evaluate a seeded sample of N linking files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault"
        links = prepare(args.corpus.resolve(), vault)
        ix = Index(Path(tmp) / "index")
        started = time.perf_counter()
        ix.update(vault)
        print(f"indexed in {time.perf_counter() - started:.1f} s; {len(links)} files with links", file=sys.stderr)
        tags = {
            p.relative_to(vault).as_posix(): {t.lower() for t in load_document(p, vault).tags}
            for p in vault.rglob("*.md")
        }
        queries = sorted(links)
        if not queries:
            raise SystemExit(f"no file under {args.corpus} lists related documents under ## 相关文档")
        if args.sample and args.sample < len(queries):
            queries = random.Random(args.seed).sample(queries, args.sample)
        totals = {"searchkit": 0.0, "tag-overlap": 0.0}
        timings = []
        for path in queries:
            started = time.perf_counter()
            ours = [hit.path for hit in ix.related(path, limit=10)]
            timings.append(time.perf_counter() - started)
            theirs = tag_overlap(tags, path, 10)
            totals["searchkit"] += len(links[path] & set(ours)) / len(links[path])
            totals["tag-overlap"] += len(links[path] & set(theirs)) / len(links[path])
        ix.close()
    sha = git_commit()
    for impl, total in totals.items():
        value = round(total / len(queries), 4)
        print(json.dumps({"bench": "related", "impl": impl, "metric": "recall@10", "value": value,
                          "queries": len(queries), "commit": sha}))
    timings.sort()
    print(json.dumps({"bench": "related", "impl": "searchkit", "metric": "p50_ms",
                      "value": round(1000 * timings[len(timings) // 2], 1), "queries": len(queries), "commit": sha}))
    print("| impl | recall@10 |\n| --- | --- |", file=sys.stderr)
    for impl, total in totals.items():
        print(f"| {impl} | {total / len(queries):.3f} |", file=sys.stderr)


if __name__ == "__main__":
    main()
