"""Indexing one share of the documents into new segments: what a worker process
(or the parent, for a small update) runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .analysis import Analyzer, gram_positions
from .documents import TEXT_FIELDS, read_document
from .errors import DocumentError
from .records import Fingerprint
from .results import ProgressCallback, SkippedFile
from .store import Segment, SegmentWriter

# Text per segment while indexing, which bounds a worker's memory (benchmarks/README.md).
SEGMENT_TEXT_CHARS = 1_000_000


@dataclass(frozen=True, slots=True)
class Job:
    """A file to index: its path relative to the folder, where it is, and the
    fingerprint it had when the folder was scanned."""

    path: str
    file: str  # a str, not a Path: a scan of 100,000 files keeps one each (as Path objects, 30 MB more)
    fingerprint: Fingerprint

    def to_json(self) -> list[object]:
        return [self.path, self.file, self.fingerprint.mtime_ns, self.fingerprint.size]

    @classmethod
    def from_json(cls, item: list[object]) -> Job:
        path, file, mtime_ns, size = item
        return cls(str(path), str(file), Fingerprint(int(str(mtime_ns)), int(str(size))))


@dataclass(frozen=True)
class ShardResult:
    """What indexing one share of the documents produced: new segments (their
    postings files written), the paths indexed, the files skipped."""

    segments: list[Segment]
    indexed: list[str]
    skipped: list[SkippedFile]


def field_tokens(analyzer: Analyzer, texts: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
    """(token, position) of each text field."""
    return {
        name: [(token, position) for token, position, _, _ in analyzer.iter_tokens(text)]
        for name, text in texts.items()
    }


def index_shard(
    index_path: Path,
    root: Path,
    jobs: list[Job],
    analyzer: Analyzer,
    *,
    progress: ProgressCallback | None = None,
) -> ShardResult:
    """Read, cut and index `jobs` into new segments of the index at `index_path`, not
    yet committed: the caller holds the write lock and commits them. A segment is
    closed after SEGMENT_TEXT_CHARS of text, so that memory stays bounded."""
    writer = SegmentWriter(index_path)
    indexed: list[str] = []
    skipped: list[SkippedFile] = []
    segments: list[Segment] = []
    text_chars = 0
    try:
        for done, job in enumerate(jobs, 1):
            try:
                document = read_document(Path(job.file), root).document
            except DocumentError as exc:  # gone or changed since the first pass
                skipped.append(SkippedFile(job.path, exc.reason))
                continue
            texts = {name: document.text_of(name) for name in TEXT_FIELDS}
            grams = gram_positions("\n".join(texts.values()))  # title first: ranking.in_titles
            writer.add(document, job.fingerprint, field_tokens(analyzer, texts), grams)
            indexed.append(job.path)
            text_chars += len(document.body) + len(document.summary)
            if text_chars >= SEGMENT_TEXT_CHARS:
                segments.append(writer.finish())
                text_chars = 0
            if progress is not None:
                progress(done, len(jobs))
        if writer.is_open:
            segments.append(writer.finish())
    finally:
        writer.abandon()
    return ShardResult(segments, indexed, skipped)
