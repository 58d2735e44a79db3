"""Searches a reader of the vault makes, judged by the files themselves.

Run from the repository root:

    python benchmarks/vault_probes.py                 # the whole vault (../shared/corpus/kb)
    python benchmarks/vault_probes.py --probes 100    # fewer sampled probes per kind

The vault is indexed by searchkit and by the textbook (Whoosh + jieba's ChineseAnalyzer,
OR between words; benchmarks/textbook.py) in a temporary folder. Each probe's right
answer comes from the text of the files (every field searchkit searches, as its parser
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
  and precision in the top 10;
- `typo`: a Latin word (ASCII letters, 5 or more, in 20 or more notes as a whole word,
  any case) typed with one slip past its first letter (two neighbours swapped, one
  letter dropped or one replaced) that makes a word of at most one note: the share of
  the top 10 holding the intended word (none found counts 0), and the share of probes
  with at least one such note in the top 10 (`found`);
- `taiwan`: Taiwan and Hong Kong words typed in Traditional characters (人工智慧, 網路,
  程式, …; pairs OpenCC's tw2sp does not confirm are dropped), judged by the notes
  holding the mainland word (人工智能, 网络, 程序, …; 3 or more): recall of all hits
  (up to 1,000) pooled over the words, and the share of the top 10 holding the mainland
  word or the typed word in Simplified characters;
- `adjacent`: two Latin-or-digit words side by side with one space (Claude Code, Sora 2),
  each in 20 or more notes but together in 1–10 notes (any case), typed unquoted: the
  share for which every note holding the pair is in the top 10;
- `topic`: the tag notes of `00-元语/` that have a `## 定义`: the 3 most distinctive
  Chinese words (jieba's TF-IDF, 2 or more Han characters, not part of the tag's name)
  of the definition's first sentence, judged by the notes that link the tag
  (`[[00-元语/<tag>]]`, 5 or more): the share of the top 10 that do, and the share of
  probes with at least one in the top 10 (`found`).

stdout: one JSON object per line ({"bench": "vault_probes", "impl", "probe", "metric",
"value", "probes", "commit"}); stderr: progress and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import string
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jieba.analyse
import opencc
from common import git_commit, log
from textbook import Textbook

from searchkit import Index, QueryError, load_document
from searchkit.documents import TEXT_FIELDS

REPO = Path(__file__).resolve().parents[1]
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
VERSIONS = ("GPT-5", "GPT-4o", "GPT-4", "DeepSeek-R1", "DeepSeek-V3", "Claude 3.5", "Gemini 2.5",
            "Qwen3", "Llama 3", "Sora 2", "o1", "o3", "Claude 4")
ALL_HITS = 1000
# Taiwan / Hong Kong words in Traditional characters → the mainland word
TAIWAN = (("人工智慧", "人工智能"), ("網路", "网络"), ("程式", "程序"), ("軟體", "软件"), ("資訊", "信息"),
          ("記憶體", "内存"), ("影片", "视频"), ("伺服器", "服务器"), ("演算法", "算法"), ("數位", "数字"),
          ("滑鼠", "鼠标"), ("資料庫", "数据库"), ("介面", "界面"), ("使用者", "用户"), ("網際網路", "互联网"),
          ("硬碟", "硬盘"), ("螢幕", "屏幕"), ("行動裝置", "移动设备"), ("部落格", "博客"), ("原始碼", "源代码"))
# a Latin-or-digit word, whole: not next to another ASCII letter or digit (Han characters are \w in re)
LATIN_WORD = re.compile(r"[A-Za-z0-9]+")
# two such words with one space between, overlapping (a b c → "a b", "b c")
LATIN_PAIR = re.compile(r"(?<![A-Za-z0-9])(?=([A-Za-z0-9]+ [A-Za-z0-9]+)(?![A-Za-z0-9]))")
TAG_FOLDER = "00-元语/"
TAG_LINK = re.compile(r"\[\[00-元语/([^\]|#\n]+)(?:[|#][^\]\n]*)?\]\]")
DEFINITION = re.compile(r"^##[ \t]+定义[ \t]*\n(.*?)(?=^##?[ \t]|\Z)", re.M | re.S)
HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
TOPIC_WORDS = 3
_said: set[str] = set()

Search = Callable[[str, int], list[str]]


def load_vault(folder: Path) -> dict[str, dict[str, str]]:
    """Path → the text a reader sees, by part (and the file as written, `raw`)."""
    notes = {}
    for file in sorted(folder.rglob("*.md")):
        document = load_document(file, folder)
        notes[document.path] = {
            "title": document.title,
            "text": "\n".join(document.text_of(name) for name in TEXT_FIELDS),
            "author": document.author or "",
            "raw": file.read_text(encoding="utf-8-sig", errors="replace"),
        }
    return notes


def log_once(message: str) -> None:
    """Log `message` the first time only (probes are built again for every engine)."""
    if message not in _said:
        _said.add(message)
        log(message)


def share(hits: list[str], good: Callable[[str], bool]) -> float:
    """The share of `hits` that are `good`; 0 when there are none."""
    return sum(map(good, hits)) / len(hits) if hits else 0.0


@dataclass
class LatinWords:
    """The Latin-or-digit words of every note's text (lowercase), and the pairs of them
    side by side with one space; how many notes hold each; how each is most often written."""

    words: dict[str, set[str]] = field(default_factory=dict)
    pairs: dict[str, set[str]] = field(default_factory=dict)
    word_notes: Counter[str] = field(default_factory=Counter)
    pair_notes: Counter[str] = field(default_factory=Counter)
    written: dict[str, Counter[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, notes: dict[str, dict[str, str]]) -> LatinWords:
        latin = cls()
        for path, note in notes.items():
            words = LATIN_WORD.findall(note["text"])
            pairs = LATIN_PAIR.findall(note["text"])
            for form in (*words, *pairs):
                latin.written.setdefault(form.lower(), Counter())[form] += 1
            latin.words[path] = {word.lower() for word in words}
            latin.pairs[path] = {pair.lower() for pair in pairs}
            latin.word_notes.update(latin.words[path])
            latin.pair_notes.update(latin.pairs[path])
        return latin

    def as_written(self, form: str) -> str:
        return self.written[form].most_common(1)[0][0]


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


def make_typo(word: str, rng: random.Random) -> str | None:
    """`word` with one slip past its first letter: two neighbours swapped, one letter
    dropped or one replaced (keeping its case); None when no swap changes it."""
    for _ in range(5):
        kind = rng.choice(("swap", "delete", "replace"))
        at = rng.randrange(1, len(word) - (kind == "swap"))
        if kind == "swap":
            if word[at].lower() != word[at + 1].lower():
                return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif kind == "delete":
            return word[:at] + word[at + 1 :]
        else:
            letter = rng.choice([c for c in string.ascii_lowercase if c != word[at].lower()])
            return word[:at] + (letter.upper() if word[at].isupper() else letter) + word[at + 1 :]
    return None


def typo_probes(search: Search, latin: LatinWords, rng: random.Random, count: int) -> dict[str, float]:
    common = sorted(word for word, held in latin.word_notes.items()
                    if held >= 20 and len(word) >= 5 and word.isascii() and word.isalpha())
    probes = []
    for word in rng.sample(common, min(count, len(common))):
        typo = make_typo(latin.as_written(word), rng)
        # a word of at most one note (so not a word of 3 or more either)
        if typo is not None and latin.word_notes[typo.lower()] <= 1:
            probes.append((typo, word))
    precision = found = 0.0
    for typo, word in probes:
        hits = search(typo, 10)
        precision += share(hits, lambda path, word=word: word in latin.words[path])
        found += any(word in latin.words[path] for path in hits)
    log_once("typo samples: " + ", ".join(f"{typo} ({word})" for typo, word in probes[:5]))
    return {"precision@10": precision / max(len(probes), 1), "found": found / max(len(probes), 1),
            "probes": len(probes)}


def taiwan_probes(search: Search, notes: dict[str, dict[str, str]]) -> dict[str, float]:
    to_mainland, to_simplified = opencc.OpenCC("tw2sp"), opencc.OpenCC("t2s")
    confirmed = [(word, mainland) for word, mainland in TAIWAN if to_mainland.convert(word) == mainland]
    dropped = [f"{word}→{mainland} (tw2sp: {to_mainland.convert(word)})" for word, mainland in TAIWAN
               if (word, mainland) not in confirmed]
    if dropped:
        log_once("taiwan: dropped " + ", ".join(dropped))
    probes = []
    for word, mainland in confirmed:
        truth = holding(notes, mainland)
        if len(truth) >= 3:
            probes.append((word, mainland, truth))
        else:
            log_once(f"taiwan: dropped {word}→{mainland} ({len(truth)} notes)")
    found = wanted = 0
    precision = 0.0
    for word, mainland, truth in probes:
        found += len(truth & set(search(word, max(ALL_HITS, 2 * len(truth)))))  # 信息 is in 1,700 notes
        wanted += len(truth)
        simplified = to_simplified.convert(word)
        hits = search(word, 10)
        precision += share(hits, lambda path, m=mainland, s=simplified: m in notes[path]["text"]
                           or s in notes[path]["text"])
    return {"recall": found / max(wanted, 1), "precision@10": precision / max(len(probes), 1),
            "probes": len(probes)}


def adjacent_probes(search: Search, latin: LatinWords, rng: random.Random, count: int) -> dict[str, float]:
    pairs = sorted(pair for pair, held in latin.pair_notes.items()
                   if held <= 10 and all(latin.word_notes[word] >= 20 for word in pair.split(" ")))
    probes = rng.sample(pairs, min(count, len(pairs)))
    found = 0
    for pair in probes:
        truth = {path for path, held in latin.pairs.items() if pair in held}
        found += truth <= set(search(latin.as_written(pair), 10))
    log_once("adjacent samples: " + ", ".join(latin.as_written(pair) for pair in probes[:5]))
    return {"all_in_top10": found / max(len(probes), 1), "probes": len(probes)}


def topic_queries(notes: dict[str, dict[str, str]]) -> list[tuple[str, str, set[str]]]:
    """(query, tag, notes tagged with it) for each tag note with a definition and 5 or
    more tagged notes: the definition's first sentence's most distinctive words."""
    links = {path: {target.strip() for target in TAG_LINK.findall(note["raw"])} for path, note in notes.items()}
    probes = []
    for path, note in notes.items():
        definition = DEFINITION.search(note["raw"])
        if not path.startswith(TAG_FOLDER) or "/" in path[len(TAG_FOLDER) :] or definition is None:
            continue
        tag = path[len(TAG_FOLDER) :].removesuffix(".md")
        tagged = {other for other, targets in links.items() if tag in targets} - {path}
        if len(tagged) < 5:
            continue
        sentence = definition.group(1).strip().split("。", 1)[0]
        words = [word for word in jieba.analyse.extract_tags(sentence, topK=20)
                 if HAN_WORD.fullmatch(word) and word.lower() not in tag.lower()][:TOPIC_WORDS]
        if len(words) >= 2:
            probes.append((" ".join(words), tag, tagged))
    return probes


def topic_probes(search: Search, notes: dict[str, dict[str, str]]) -> dict[str, float]:
    probes = topic_queries(notes)
    log_once("topic samples: " + ", ".join(f"{query} ({tag})" for query, tag, _ in probes[:5]))
    precision = found = 0.0
    for query, _, tagged in probes:
        hits = search(query, 10)
        precision += share(hits, tagged.__contains__)
        found += bool(tagged & set(hits))
    return {"precision@10": precision / max(len(probes), 1), "found": found / max(len(probes), 1),
            "probes": len(probes)}


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

    latin = LatinWords.of(notes)
    out["typo"] = typo_probes(search, latin, rng, args.probes)
    out["taiwan"] = taiwan_probes(search, notes)
    out["adjacent"] = adjacent_probes(search, latin, rng, args.probes)
    out["topic"] = topic_probes(search, notes)
    return out


def searchkit_search(ix: Index) -> Search:
    def search(query: str, limit: int) -> list[str]:
        try:
            return [hit.path for hit in ix.search(query, limit=limit)]
        except QueryError:
            return []
        except Exception:
            log(f"searchkit failed on the query {query!r}")
            raise

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
