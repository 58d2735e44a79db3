"""Speed of searchkit against its peers on the vault, all measured in one run.

Run from the repository root (tantivy is optional: `pip install -e '.[bench]'`):

    python benchmarks/speed.py                   # the whole vault (../shared/corpus/kb)
    python benchmarks/speed.py --sample 300      # quick: a seeded sample of 300 files
    python benchmarks/speed.py --engines searchkit,textbook --runs 3
    python benchmarks/speed.py --engines searchkit,fts5 --baseline /tmp/before

Engines:
- `searchkit`: `Index(path).update(folder)`, `Index.search(query, limit=10)` (snippets
  are always computed);
- `textbook`: Whoosh 2.7.4 + jieba's ChineseAnalyzer (benchmarks/textbook.py), OR
  between query words; snippets with Whoosh's highlighter over the file's body read
  from disk (the textbook stores no text); also timed without snippets;
- `fts5`: SQLite FTS5 over jieba-pre-segmented text (benchmarks/peer_fts5.py);
- `tantivy`: tantivy-py over jieba-pre-segmented text (benchmarks/peer_tantivy.py);
  reported as skipped when `import tantivy` fails;
- `baseline` (only with `--baseline TREE`, right after `searchkit`): the `searchkit`
  engine run from another checkout (e.g. `git worktree add /tmp/before <commit>`):
  its processes get PYTHONPATH=TREE:..., so they import TREE's `searchkit/`; every
  worker reports the `searchkit.__file__` it imported, and the run stops if either
  engine imported the other's package. Interleaved with the others in every phase
  but `--help`, to compare a change against its parent in one run on a noisy machine.

The vault (or the sample) is first copied to a temporary folder, and every engine
indexes that copy. Metrics per engine:
- `index_s`: full index from empty: the build call in a fresh process (its wall time
  including Python start and imports is `index_wall_s`); median over `--runs`;
- `index_mib`: bytes of the index folder / 2**20;
- `peak_rss_mib`: peak RSS of that indexing process and its worker processes together:
  the larger of the child's ru_maxrss (os.wait4) and the peak of the summed RSS of the
  child and all its descendants, sampled from /proc every 20 ms / 1024;
- `reindex_nochange_s`, `reindex_changed_s`: searchkit (and baseline) only: `update()`
  in a fresh process with nothing changed, and after appending a line to one file. The
  peers have no incremental update: they would need a full rebuild (= their `index_s`),
  so these two metrics are not measured for them;
- `query_p50_ms`, `query_p95_ms`: warm latency in one process, top 10 with
  snippets, over the QUERIES below after one warm-up pass, each query repeated
  `--query-repeats` times;
- `prefix_p50_ms`, `prefix_p95_ms` ("as-you-type"): the same process, each of QUERIES cut
  after every character (`大`, `大模`, `大模型`, `大模型 推`, …), searched once each after a
  warm-up with the last word as a prefix (searchkit `prefix=True`, FTS5 `"word" *`; an
  engine without a prefix mode, tantivy here and a baseline from before it, has no row);
- `cold_query_ms`: a fresh process answering one query (`searchkit query "好莱坞 罢工"
  --index IDX`, or with `--baseline` `python -m searchkit query ...` for both searchkit
  and baseline, each from its own tree; for a peer, `python -c` importing the peer,
  loading jieba and querying), median of 5 after one untimed run;
- `help_ms` (searchkit only): `searchkit --help` in a fresh process, median of 5, and
  `help_imports_segmenter`: whether `--help` imports rjieba or jieba (the line lists
  which of rjieba/jieba/whoosh/opencc/frontmatter/yaml it imports).

stdout: one JSON object per line ({"bench": "speed", "impl", "metric", "value",
"files", "commit"}), plus "searchkit/PEER" lines (and "searchkit/baseline") with
`<metric>_ratio` for each time, size and memory metric both have; also per engine the
hit counts and top 3 snippets of every query, and which other benchmarks or test runs
were seen running. stderr: progress and a Markdown table at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import git_commit, log

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
ENGINES = ("searchkit", "textbook", "fts5", "tantivy")
PEERS = ("textbook", "fts5", "tantivy")
COLD_QUERY = "好莱坞 罢工"
COLD_RUNS = 5
HELP_RUNS = 5

# What a reader of this vault types: topics, names, half-remembered phrases, English
# terms, a Traditional-character query, parts of words.
QUERIES = (
    "好莱坞 罢工",
    "Claude Code",
    "GPT-4o",
    "寶可夢",
    "C++",
    "大模型 推理",
    "向量数据库",
    "提示词工程",
    "Stability AI",
    "卡兹克",
    "开源 协议",
    "RAG 检索增强",
    "上下文工程",
    "Agent 框架",
    "知识库",
    "AI 编程",
    "罢工",
    "莱坞",
    "数字生命卡兹克",
    "DeepSeek",
    "多模态",
    "具身智能",
    "智能体",
    "transformer",
    "python 异步",
    "显卡",
    "token 成本",
    "苹果 发布会",
    "卡梅隆 加入",
    "如何写好提示词",
)

# metrics compared as searchkit / peer
RATIO_METRICS = ("index_s", "index_wall_s", "index_mib", "peak_rss_mib", "reindex_nochange_s",
                 "reindex_changed_s", "query_p50_ms", "query_p95_ms", "query_max_ms", "prefix_p50_ms",
                 "prefix_p95_ms", "cold_query_ms")

# metric -> (table heading, format); the table shows them in this order
TABLE = {
    "index_s": ("full index s", "{:.1f}"),
    "index_mib": ("index MiB", "{:.1f}"),
    "peak_rss_mib": ("peak RSS MiB", "{:.0f}"),
    "reindex_nochange_s": ("re-index, no change s", "{:.2f}"),
    "reindex_changed_s": ("re-index, 1 file changed s", "{:.2f}"),
    "query_p50_ms": ("warm query p50 ms", "{:.2f}"),
    "query_p95_ms": ("warm query p95 ms", "{:.2f}"),
    "prefix_p95_ms": ("as-you-type p95 ms", "{:.2f}"),
    "cold_query_ms": ("cold CLI query ms", "{:,.0f}"),
}


def searchkit_diff(tree: Path = REPO) -> str:
    """sha1 (12 digits) of the uncommitted changes to tree's searchkit/, or "" when there are none."""
    import hashlib

    diff = subprocess.run(["git", "diff", "HEAD", "--", "searchkit"], cwd=tree, capture_output=True).stdout
    return hashlib.sha1(diff).hexdigest()[:12] if diff else ""


def head_commit(tree: Path = REPO) -> str:
    """`git rev-parse --short HEAD` in tree ("" outside a git checkout)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True)
    return head.stdout.strip()


def code_version(tree: Path = REPO) -> str:
    """HEAD and the uncommitted changes to searchkit/: to notice code changing mid-run."""
    return f"{head_commit(tree)}+{searchkit_diff(tree) or 'clean'}"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def folder_bytes(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())


# --------------------------------------------------------------------------- engines
# Imported lazily: the cold-query command of the textbook imports this module.


class TextbookEngine:
    """benchmarks/textbook.py, plus snippets as a tutorial would add them: the body
    is not stored, so it is read from the file and highlighted by Whoosh."""

    def __init__(self, path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> None:
        from textbook import Textbook

        self.path = Path(path)
        self.folder = Path(folder)
        self.textbook = Textbook(self.path)
        self._searcher: Any = None

    def build(self) -> int:
        return int(self.textbook.build(self.folder))

    def search(self, query: str, limit: int = 10) -> list[tuple[str, str]]:
        import frontmatter
        from textbook import FIELDS
        from whoosh import index
        from whoosh.qparser import MultifieldParser

        if self._searcher is None:
            ix = index.open_dir(str(self.path))
            self._searcher = ix.searcher()
            self._parser = MultifieldParser(FIELDS, ix.schema, group=self.textbook.group)
        results = self._searcher.search(self._parser.parse(query), limit=limit)
        hits = []
        for hit in results:
            body = frontmatter.load(self.folder / hit["path"]).content
            hits.append((hit["path"], hit.highlights("body", text=body)))
        return hits

    def search_without_snippets(self, query: str, limit: int = 10) -> list[str]:
        return list(self.textbook.search(query, limit=limit))


class SearchkitEngine:
    def __init__(self, path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> None:
        from searchkit import Index

        self.index = Index(path)
        self.folder = Path(folder)
        self.last_stats: Any = None

    def build(self) -> int:
        self.last_stats = self.index.update(self.folder)
        return int(self.last_stats.documents)

    def search(self, query: str, limit: int = 10, prefix: bool = False) -> list[tuple[str, str]]:
        if prefix:  # a baseline from before prefix search fails here, and has no prefix rows
            return [(hit.path, hit.snippet) for hit in self.index.search(query, limit=limit, prefix=True)]
        return [(hit.path, hit.snippet) for hit in self.index.search(query, limit=limit)]


class PeerEngine:
    def __init__(self, name: str, path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> None:
        if name == "fts5":
            from peer_fts5 import Fts5Peer as peer_class
        else:
            from peer_tantivy import TantivyPeer as peer_class
        self.peer = peer_class(path)
        self.folder = Path(folder)

    def build(self) -> int:
        return int(self.peer.build(self.folder))

    def search(self, query: str, limit: int = 10, prefix: bool = False) -> list[tuple[str, str]]:
        if prefix:
            return list(self.peer.search(query, limit=limit, prefix=True))
        return list(self.peer.search(query, limit=limit))


def make_engine(name: str, path: str, folder: str) -> Any:
    # the baseline is the same engine; only its PYTHONPATH (set by the driver) differs
    if name in ("searchkit", "baseline"):
        return SearchkitEngine(path, folder)
    if name == "textbook":
        return TextbookEngine(path, folder)
    return PeerEngine(name, path, folder)


# Cold query of a peer: a fresh `python -c` that imports the peer, loads jieba (on
# the first cut) and prints the hits. argv: query, index, folder.
COLD_CODE = {
    "textbook": (
        "import sys; sys.path[:0] = [{bench!r}]; from speed import TextbookEngine; "
        "[print(p, s) for p, s in TextbookEngine(sys.argv[2], sys.argv[3]).search(sys.argv[1])]"
    ),
    "fts5": (
        "import sys; sys.path[:0] = [{bench!r}]; from peer_fts5 import Fts5Peer; "
        "[print(p, s) for p, s in Fts5Peer(sys.argv[2]).search(sys.argv[1])]"
    ),
    "tantivy": (
        "import sys; sys.path[:0] = [{bench!r}]; from peer_tantivy import TantivyPeer; "
        "[print(p, s) for p, s in TantivyPeer(sys.argv[2]).search(sys.argv[1])]"
    ),
}


# --------------------------------------------------------------------------- workers
# `speed.py --worker KIND --engine E --index P --folder F` runs in a fresh process and
# prints one JSON object on stdout.


def rusage_kib() -> dict[str, int]:
    import resource

    return {
        "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def worker_index(args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(args.engine, args.index, args.folder)
    started = time.perf_counter()
    documents = engine.build()
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {"seconds": seconds, "documents": documents, **rusage_kib()}
    if args.engine in ("searchkit", "baseline"):
        out["searchkit_file"] = sys.modules["searchkit"].__file__
        stats = engine.last_stats
        out.update(added=stats.added, changed=stats.changed, removed=stats.removed,
                   unchanged=stats.unchanged, reindexed=getattr(stats, "reindexed", 0),
                   skipped=len(stats.skipped), warnings=len(stats.warnings))
    return out


def worker_query(args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(args.engine, args.index, args.folder)
    errors: dict[str, str] = {}
    hits: dict[str, int] = {}
    snippets: dict[str, list[str]] = {}
    for query in QUERIES:  # warm-up: open the index, load the segmenter, fill caches
        try:
            found = engine.search(query, 10)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            errors[query] = f"{type(exc).__name__}: {exc}"
            continue
        hits[query] = len(found)
        snippets[query] = [f"{path} | {snippet}" for path, snippet in found[:3]]
    timings: dict[str, list[float]] = {query: [] for query in QUERIES if query not in errors}
    for _ in range(args.query_repeats):
        for query in timings:
            started = time.perf_counter()
            engine.search(query, 10)
            timings[query].append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"timings_ms": timings, "hits": hits, "errors": errors, "snippets": snippets}
    if args.engine != "textbook":
        out["prefix_timings_ms"] = time_as_typed(engine)
    if args.engine in ("searchkit", "baseline"):
        out["searchkit_file"] = sys.modules["searchkit"].__file__
    if args.engine == "textbook":
        plain: list[float] = []
        for _ in range(args.query_repeats):
            for query in timings:
                started = time.perf_counter()
                engine.search_without_snippets(query, 10)
                plain.append((time.perf_counter() - started) * 1000)
        out["plain_timings_ms"] = plain
    return out


def as_typed(query: str) -> list[str]:
    """The query cut after every character, as a search box sees it while it is typed
    (a cut that ends in a space adds nothing: the same words)."""
    return [query[:end] for end in range(1, len(query) + 1) if not query[end - 1].isspace()]


def time_as_typed(engine: Any) -> list[float] | None:
    """Milliseconds of each of QUERIES cut after every character, searched with the
    last word as a prefix, top 10 with snippets; None when the engine cannot."""
    cuts = [cut for query in QUERIES for cut in as_typed(query)]
    timings = []
    try:
        for cut in cuts:  # warm-up
            engine.search(cut, 10, prefix=True)
    except TypeError:
        return None
    for cut in cuts:
        started = time.perf_counter()
        engine.search(cut, 10, prefix=True)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def worker_help_modules(_args: argparse.Namespace) -> dict[str, Any]:
    import io

    from searchkit.cli import cli

    with contextlib.redirect_stdout(io.StringIO()):
        cli(["--help"], standalone_mode=False)
    heavy = ("rjieba", "jieba", "whoosh", "opencc", "frontmatter", "yaml")
    loaded = sorted({name.split(".")[0] for name in sys.modules} & set(heavy))
    return {"heavy_modules": loaded}


WORKERS = {"index": worker_index, "query": worker_query, "help-modules": worker_help_modules}


# --------------------------------------------------------------------------- driver


class Runner:
    def __init__(self, args: argparse.Namespace, commit: str) -> None:
        self.args = args
        self.commit = commit
        self.files = 0
        self.results: dict[str, dict[str, float]] = {}
        self.notes: list[str] = []
        # other benchmarks or tests seen running -> the phases they overlapped
        self.seen: dict[str, set[str]] = {}
        self.env = {k: v for k, v in os.environ.items() if k != "SEARCHKIT_INDEX"}
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(BENCH), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        # engine -> the checkout whose searchkit/ it must import (checked only with --baseline)
        self.trees: dict[str, Path] = {}
        self.baseline_env: dict[str, str] = {}
        if args.baseline:
            self.trees = {"searchkit": REPO, "baseline": Path(args.baseline).resolve()}
            # first on the path: ahead of the editable install's entry for this repo
            self.baseline_env = {**self.env, "PYTHONPATH": os.pathsep.join(
                [str(self.trees["baseline"]), self.env["PYTHONPATH"]])}
        self.checked: set[str] = set()

    def env_for(self, engine: str) -> dict[str, str]:
        return self.baseline_env if engine == "baseline" else self.env

    def check_import(self, engine: str, searchkit_file: str | None) -> None:
        """Fail unless engine's process imported searchkit from its own tree."""
        tree = self.trees.get(engine)
        if tree is None:
            return
        expected = (tree / "searchkit").resolve()
        found = Path(searchkit_file).resolve().parent if searchkit_file else None
        if found != expected:
            raise RuntimeError(f"{engine} imported searchkit from {searchkit_file}, not from {expected}")
        if engine not in self.checked:
            self.checked.add(engine)
            log(f"  {engine} imports {searchkit_file}")

    def emit(self, impl: str, metric: str, value: Any, **extra: Any) -> None:
        if isinstance(value, float):
            value = round(value, 4)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.results.setdefault(impl, {})[metric] = value
        record = {"bench": "speed", "impl": impl, "metric": metric, "value": value,
                  "files": self.files, "commit": self.commit, **extra}
        print(json.dumps(record, ensure_ascii=False), flush=True)

    def worker(
        self, kind: str, engine: str, index: Path | None, folder: Path | None
    ) -> tuple[dict[str, Any], float, int]:
        """Run a worker in a fresh process: (its JSON, wall seconds, child's ru_maxrss in KiB)."""
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--engine", engine,
               "--query-repeats", str(self.args.query_repeats)]
        if index is not None:
            cmd += ["--index", str(index)]
        if folder is not None:
            cmd += ["--folder", str(folder)]
        self.watch(f"{kind} {engine}")
        started = time.perf_counter()
        # each engine from its own tree: searchkit's index workers run `python -m`, which
        # puts the working folder first on their import path
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=self.env_for(engine), cwd=self.trees.get(engine, REPO))
        assert proc.stdout is not None
        sampler = TreeMemory(proc.pid)
        sampler.start()
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        self.watch(f"{kind} {engine}")
        if proc.returncode != 0:
            raise RuntimeError(f"worker {kind} {engine} failed with exit code {proc.returncode}")
        out = json.loads(output.decode("utf-8").strip().splitlines()[-1])
        if kind in ("index", "query"):
            self.check_import(engine, out.get("searchkit_file"))
        return out, wall, max(usage.ru_maxrss, sampler.peak_kib)

    def watch(self, phase: str) -> None:
        for line in concurrent_processes():
            self.seen.setdefault(line, set()).add(phase)

    def timed(self, cmd: list[str], check: bool = True, engine: str = "",
              cwd: Path = REPO) -> tuple[float, subprocess.CompletedProcess[bytes]]:
        phase = " ".join(Path(cmd[0]).name if i == 0 else part for i, part in enumerate(cmd[:2]))
        self.watch(phase)
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, env=self.env_for(engine), cwd=cwd)
        elapsed = (time.perf_counter() - started) * 1000
        self.watch(phase)
        if check and done.returncode != 0:
            raise RuntimeError(f"{cmd[:3]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-500:]}")
        return elapsed, done


def available_engines(requested: list[str], runner: Runner) -> list[str]:
    engines = []
    for name in requested:
        if name == "tantivy":
            try:
                import tantivy  # noqa: F401
            except Exception as exc:  # noqa: BLE001
                reason = f"import tantivy failed: {type(exc).__name__}: {exc}"
                log(f"tantivy skipped: {reason}")
                runner.emit("tantivy", "skipped", None, reason=reason)
                runner.notes.append(f"tantivy skipped ({reason})")
                continue
        engines.append(name)
    return engines


def copy_vault(corpus: Path, target: Path, sample: int | None, seed: int) -> int:
    files = sorted(corpus.rglob("*.md"))
    if sample is None:
        shutil.copytree(corpus, target)
        return len(files)
    chosen = random.Random(seed).sample(files, min(sample, len(files)))
    for file in chosen:
        destination = target / file.relative_to(corpus)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    return len(chosen)


class TreeMemory(threading.Thread):
    """Peak of the summed RSS (KiB) of a process and all its descendants (Linux /proc)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.02):
            self.peak_kib = max(self.peak_kib, self.sample())

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def sample(self) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * page_kib
        tree = {self.pid}
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return sum(rss.get(pid, 0) for pid in tree)


def concurrent_processes() -> list[str]:
    """Other benchmarks or test runs on this machine (they skew every timing)."""
    found = subprocess.run(["pgrep", "-af", r"benchmarks/quality\.py|pytest"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if line.split()[0] != str(os.getpid())]


def run(args: argparse.Namespace) -> None:
    commit = git_commit()
    version = code_version()
    runner = Runner(args, commit)
    corpus = Path(args.corpus).resolve()
    searchkit_exe = Path(sys.executable).parent / "searchkit"
    if not searchkit_exe.exists():
        searchkit_exe = Path(shutil.which("searchkit") or "searchkit")
    baseline = Path(args.baseline).resolve() if args.baseline else None
    baseline_version = code_version(baseline) if baseline else ""

    with tempfile.TemporaryDirectory(prefix="searchkit-speed-") as tmp:
        root = Path(tmp)
        vault = root / "vault"
        log(f"copying {corpus} to {vault}" + (f" (sample of {args.sample}, seed {args.seed})" if args.sample else ""))
        runner.files = copy_vault(corpus, vault, args.sample, args.seed)
        engines = available_engines(args.engines.split(","), runner)
        if baseline:
            engines.insert(engines.index("searchkit") + 1, "baseline")
        # the engines with an incremental update (searchkit's, from either tree)
        updaters = [name for name in engines if name in ("searchkit", "baseline")]
        others = concurrent_processes()
        extra_meta: dict[str, str] = {}
        if baseline:
            extra_meta = {"baseline": str(baseline), "baseline_commit": head_commit(baseline),
                          "baseline_diff_sha1": searchkit_diff(baseline)}
        runner.emit("meta", "run", None, corpus=str(corpus), sample=args.sample, engines=engines,
                    runs=args.runs, query_repeats=args.query_repeats, python=sys.version.split()[0],
                    cpus=os.cpu_count(), loadavg=os.getloadavg(), concurrent=others,
                    searchkit_diff_sha1=searchkit_diff(),
                    segmenter=os.environ.get("SEARCHKIT_SEGMENTER", "default"), **extra_meta)
        if others:
            log(f"warning: other benchmarks or tests are running: {others}")

        # 1. full index from empty, each in a fresh process; runs interleaved
        indexes = {name: root / f"index-{name}" for name in engines}
        builds: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in engines}
        for attempt in range(args.runs):
            for name in engines:
                shutil.rmtree(indexes[name], ignore_errors=True)
                log(f"[run {attempt + 1}/{args.runs}] indexing with {name} ...")
                out, wall, maxrss = runner.worker("index", name, indexes[name], vault)
                size = folder_bytes(indexes[name])
                builds[name].append((out["seconds"], wall, maxrss, size))
                log(f"  {name}: {out['seconds']:.1f} s, {size / 2**20:.1f} MiB, peak RSS {maxrss / 1024:.0f} MiB"
                    f" ({out['documents']} documents)")
                if name in updaters and (out.get("skipped") or out.get("warnings")):
                    runner.notes.append(f"{name} skipped {out['skipped']} files, warned on {out['warnings']}")
        for name in engines:
            runs = builds[name]
            runner.emit(name, "index_s", statistics.median(r[0] for r in runs), runs=[round(r[0], 2) for r in runs])
            runner.emit(name, "index_wall_s", statistics.median(r[1] for r in runs))
            runner.emit(name, "peak_rss_mib", statistics.median(r[2] for r in runs) / 1024)
            runner.emit(name, "index_mib", runs[-1][3] / 2**20)

        # 2. warm queries, each engine in its own fresh process
        for name in engines:
            log(f"querying {name}: {len(QUERIES)} queries x {args.query_repeats} after a warm-up ...")
            out, _, _ = runner.worker("query", name, indexes[name], vault)
            for query, error in out["errors"].items():
                log(f"  {name} failed on {query!r}: {error}")
            timings = [t for per_query in out["timings_ms"].values() for t in per_query]
            if not timings:
                runner.emit(name, "query_errors", len(out["errors"]), errors=out["errors"])
                runner.notes.append(f"{name}: every query failed")
                continue
            runner.emit(name, "query_p50_ms", statistics.median(timings))
            runner.emit(name, "query_p95_ms", percentile(timings, 0.95))
            runner.emit(name, "query_max_ms", max(timings))
            typed = out.get("prefix_timings_ms")
            if typed:
                runner.emit(name, "prefix_p50_ms", statistics.median(typed))
                runner.emit(name, "prefix_p95_ms", percentile(typed, 0.95), searches=len(typed))
            slowest = sorted(out["timings_ms"].items(), key=lambda item: -statistics.median(item[1]))[:5]
            runner.emit(name, "slowest_queries", None,
                        queries={q: round(statistics.median(t), 2) for q, t in slowest})
            zero = sorted(q for q, n in out["hits"].items() if n == 0)
            runner.emit(name, "zero_hit_queries", len(zero), queries=zero)
            empty = sorted(q for q, found in out["snippets"].items()
                           if any(not s.split(" | ", 1)[1].strip() for s in found))
            runner.emit(name, "queries_with_empty_snippets", len(empty), queries=empty)
            if out["errors"]:
                runner.emit(name, "query_errors", len(out["errors"]), errors=out["errors"])
                runner.notes.append(f"{name}: {len(out['errors'])} queries failed")
            if "plain_timings_ms" in out:
                runner.emit(name, "query_nosnippet_p50_ms", statistics.median(out["plain_timings_ms"]))
                runner.emit(name, "query_nosnippet_p95_ms", percentile(out["plain_timings_ms"], 0.95))
            runner.emit(name, "hits", None, hits=out["hits"])
            runner.emit(name, "top_hits", None, top3=out["snippets"])
            if args.show_snippets:
                for query in QUERIES[:5]:
                    for line in out["snippets"].get(query, []):
                        log(f"  {name} {query!r}: {line[:200]}")
            log(f"  {name}: p50 {statistics.median(timings):.2f} ms, p95 {percentile(timings, 0.95):.2f} ms;"
                f" slowest {[(q, round(statistics.median(t), 1)) for q, t in slowest[:3]]}; zero hits {zero}")

        # 3. cold query: a fresh process, median of COLD_RUNS after one untimed run; interleaved
        commands = {}
        # `-m` puts the working folder first on sys.path, so searchkit and baseline each
        # run from their own tree; the peers and the console script from this repo
        cwds = {name: runner.trees.get(name, REPO) for name in engines}
        for name in engines:
            if name == "searchkit" and not baseline:
                commands[name] = [str(searchkit_exe), "query", COLD_QUERY, "--index", str(indexes[name])]
            elif name in updaters:
                # the same command for both, so that only the tree differs (the console
                # script belongs to the installed package, this repo)
                commands[name] = [sys.executable, "-m", "searchkit", "query", COLD_QUERY, "--index", str(indexes[name])]
            else:
                code = COLD_CODE[name].format(bench=str(BENCH))
                commands[name] = [sys.executable, "-c", code, COLD_QUERY, str(indexes[name]), str(vault)]
        if baseline:
            for name in updaters:  # the same sys.path as `-m searchkit` in that folder and env
                _, done = runner.timed([sys.executable, "-c", "import searchkit; print(searchkit.__file__)"],
                                       engine=name, cwd=cwds[name])
                runner.check_import(name, done.stdout.decode().strip())
        log(f"cold queries ({COLD_RUNS} runs each) ...")
        cold: dict[str, list[float]] = {name: [] for name in engines}
        for name in engines:
            _, done = runner.timed(commands[name], engine=name, cwd=cwds[name])
            lines = done.stdout.decode("utf-8", "replace").splitlines()
            log(f"  {name}: {lines[0][:150] if lines else '(no output)'}")
        for _ in range(COLD_RUNS):
            for name in engines:
                cold[name].append(runner.timed(commands[name], engine=name, cwd=cwds[name])[0])
        for name in engines:
            runner.emit(name, "cold_query_ms", statistics.median(cold[name]), runs=[round(t) for t in cold[name]])

        # 4. searchkit (and baseline): incremental re-index with no change, then with one
        # file changed; the file is changed once per run, between the two, so each index
        # sees the same single change
        if "searchkit" in engines:
            files = sorted(vault.rglob("*.md"))
            victim = random.Random(args.seed).choice(files)
            nochange: dict[str, list[float]] = {name: [] for name in updaters}
            changed: dict[str, list[float]] = {name: [] for name in updaters}
            cli_nochange: list[float] = []
            for attempt in range(args.runs):
                log(f"[run {attempt + 1}/{args.runs}] {' and '.join(updaters)} re-index: no change,"
                    f" then {victim.relative_to(vault)} changed")
                for name in updaters:
                    label = "" if name == "searchkit" else f"{name}: "
                    out, _, _ = runner.worker("index", name, indexes[name], vault)
                    if out["added"] or out["changed"] or out["removed"]:
                        runner.notes.append(f"{label}no-change re-index did work: {out}")
                    nochange[name].append(out["seconds"])
                    if name == "searchkit":
                        cli_ms, _ = runner.timed(
                            [str(searchkit_exe), "index", str(vault), "--index", str(indexes["searchkit"])]
                        )
                        cli_nochange.append(cli_ms / 1000)
                with victim.open("a", encoding="utf-8") as handle:
                    handle.write(f"\n\n测速追加的一行 {attempt}。\n")
                for name in updaters:
                    label = "" if name == "searchkit" else f"{name}: "
                    out, _, _ = runner.worker("index", name, indexes[name], vault)
                    if (out["changed"], out["added"], out["removed"], out["reindexed"]) != (1, 0, 0, 0):
                        runner.notes.append(f"{label}one-file re-index did unexpected work: {out}")
                    changed[name].append(out["seconds"])
            for name in updaters:
                runner.emit(name, "reindex_nochange_s", statistics.median(nochange[name]))
                if name == "searchkit":
                    runner.emit("searchkit", "reindex_nochange_cli_s", statistics.median(cli_nochange))
                runner.emit(name, "reindex_changed_s", statistics.median(changed[name]))
            for name in engines:
                if name not in updaters:
                    runner.emit(name, "reindex", None, note="no incremental update: a full rebuild (index_s)")

            # 5. searchkit --help: time and what it imports
            log(f"searchkit --help ({HELP_RUNS} runs) ...")
            runner.timed([str(searchkit_exe), "--help"])
            helps = [runner.timed([str(searchkit_exe), "--help"])[0] for _ in range(HELP_RUNS)]
            runner.emit("searchkit", "help_ms", statistics.median(helps), runs=[round(t) for t in helps])
            out, _, _ = runner.worker("help-modules", "searchkit", None, None)
            segmenters = [m for m in out["heavy_modules"] if m in ("rjieba", "jieba")]
            runner.emit("searchkit", "help_imports_segmenter", bool(segmenters), heavy_modules=out["heavy_modules"])
            if segmenters:
                runner.notes.append(f"`searchkit --help` imports {segmenters}")

        if code_version() != version:
            runner.notes.append(f"searchkit's code changed during the run: {version} -> {code_version()}")
        if baseline and code_version(baseline) != baseline_version:
            runner.notes.append(f"the baseline's code changed during the run: {baseline_version}"
                                f" -> {code_version(baseline)}")
        runner.watch("end")
        for line, phases in sorted(runner.seen.items()):
            runner.notes.append(f"running during {', '.join(sorted(phases))}: {line[:120]}")
        runner.emit("meta", "end", None, loadavg=os.getloadavg(),
                    concurrent={line: sorted(phases) for line, phases in runner.seen.items()})

    # ratios searchkit / peer (and / baseline), for every metric both have
    mine = runner.results.get("searchkit", {})
    for peer in ("baseline", *PEERS):
        theirs = runner.results.get(peer, {})
        for metric, value in list(mine.items()):
            if metric in RATIO_METRICS and theirs.get(metric):
                runner.emit(f"searchkit/{peer}", f"{metric}_ratio", value / theirs[metric])
    log("")
    log(markdown_table(runner, engines))


def markdown_table(runner: Runner, engines: list[str]) -> str:
    results = runner.results
    head = ["", *(heading for heading, _ in TABLE.values())]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cell(impl: str, metric: str, fmt: str) -> str:
        value = results.get(impl, {}).get(metric)
        if value is None:
            return "full rebuild" if metric.startswith("reindex") and impl in PEERS else "—"
        return fmt.format(value)

    for name in engines:
        lines.append("| " + " | ".join([name, *(cell(name, m, f) for m, (_, f) in TABLE.items())]) + " |")
    for peer in ("baseline", *PEERS):
        if peer in engines and "searchkit" in engines:
            impl = f"searchkit/{peer}"
            row = [f"ratio searchkit / {peer}"]
            for metric in TABLE:
                value = results.get(impl, {}).get(f"{metric}_ratio")
                row.append("—" if value is None else f"{value:.2f}")
            lines.append("| " + " | ".join(row) + " |")
    extra = []
    sk = results.get("searchkit", {})
    if "help_ms" in sk:
        extra.append(f"`searchkit --help`: {sk['help_ms']:.0f} ms")
    if "reindex_nochange_cli_s" in sk:
        extra.append(f"`searchkit index` with nothing changed: {sk['reindex_nochange_cli_s']:.2f} s wall")
    tb = results.get("textbook", {})
    if "query_nosnippet_p50_ms" in tb:
        extra.append(f"textbook queries without snippets: p50 {tb['query_nosnippet_p50_ms']:.2f} ms,"
                     f" p95 {tb['query_nosnippet_p95_ms']:.2f} ms")
    for name in engines:
        zero = results.get(name, {}).get("zero_hit_queries")
        if zero:
            extra.append(f"{name}: {zero:.0f} of {len(QUERIES)} queries found nothing")
    text = "\n".join(lines)
    if extra or runner.notes:
        text += "\n\n" + "\n".join(f"- {line}" for line in [*extra, *runner.notes])
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus" / "kb"),
                        help="folder of Markdown files (default: ../shared/corpus/kb)")
    parser.add_argument("--sample", type=int, help="index only a seeded sample of N files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: " + ",".join(ENGINES))
    parser.add_argument("--runs", type=int, default=1, help="index builds and re-indexes per engine (median)")
    parser.add_argument("--query-repeats", type=int, default=5, help="times each warm query is timed")
    parser.add_argument("--show-snippets", action="store_true", help="print the top snippets on stderr")
    parser.add_argument("--baseline", metavar="TREE",
                        help="also run TREE's searchkit/ (another checkout, e.g. a git worktree) as engine `baseline`")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(BENCH))
        print(json.dumps(WORKERS[args.worker](args), ensure_ascii=False), flush=True)
        return
    unknown = set(args.engines.split(",")) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if args.baseline:
        if "searchkit" not in args.engines.split(","):
            parser.error("--baseline is compared with searchkit: add it to --engines")
        if not (Path(args.baseline) / "searchkit" / "__init__.py").is_file():
            parser.error(f"--baseline {args.baseline}: no searchkit/__init__.py in it")
    run(args)


if __name__ == "__main__":
    main()
