"""The `searchkit` command: parse arguments, make one library call, render.

The only module that imports click. Library modules are imported inside the
commands, so `searchkit --help` loads neither Whoosh's index nor a segmenter.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from .results import Explanation, Hit, IndexStats, SearchResults

F = TypeVar("F", bound=Callable[..., Any])

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
PROGRESS_MIN_FILES = 200


def index_option(command: F) -> F:
    return click.option(
        "--index",
        "index_path",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="SEARCHKIT_INDEX",
        default="index",
        show_default=True,
        show_envvar=True,
        help="Folder of the index.",
    )(command)


def user_errors(command: F) -> F:
    """Turn searchkit's own errors into a one-line message and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import OptionError, SearchkitError

        try:
            return command(*args, **kwargs)
        except OptionError as exc:
            raise click.ClickException(f"--{exc.option}: {exc.hint}") from None
        except SearchkitError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="searchkit")
def cli() -> None:
    """Search a folder of Chinese Markdown notes.

    \b
      searchkit index seeds/
      searchkit query "好莱坞 罢工"
    """


@cli.command("index")
@click.argument(
    "folder", required=False, type=click.Path(file_okay=False, path_type=Path)
)
@index_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Index every file again into a new index; the old one serves queries until it is replaced.",
)
@click.option(
    "--follow-links", is_flag=True, help="Follow symlinked folders and links to files outside FOLDER."
)
@click.option("--verbose", "-v", is_flag=True, help="Also name the files skipped as in the last run.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@user_errors
def index_command(
    folder: Path | None, index_path: Path, rebuild: bool, follow_links: bool, verbose: bool, as_json: bool
) -> None:
    """Index (or re-sync) the Markdown files under FOLDER.

    Only new and changed files are read; deleted files leave the index. Without
    FOLDER, the folder the index was last built from is synced again.
    """
    from .errors import SearchkitError
    from .index import Index

    ix = Index(index_path)
    if folder is None:
        known = ix.metadata().get("root")
        if not known:
            raise SearchkitError(
                f"no folder given and the index at {index_path} has none on record; "
                "run: searchkit index FOLDER"
            )
        folder = Path(known)
    with _progress_bar() as progress:
        stats = ix.update(folder, rebuild=rebuild, follow_links=follow_links, progress=progress)
    for skipped in stats.skipped:
        if verbose or not skipped.repeated:
            click.echo(f"skipped {_clean(skipped.path)}: {_clean(skipped.reason)}", err=True)
    repeated = sum(s.repeated for s in stats.skipped)
    if repeated and not verbose:
        files = "file" if repeated == 1 else "files"
        click.echo(f"{repeated} {files} skipped as in the last run, unchanged (--verbose names them)", err=True)
    for warning in stats.warnings:
        click.echo(f"warning {_clean(warning.path)}: {_clean(warning.reason)}", err=True)
    if as_json:
        click.echo(_json(stats.to_dict()))
    else:
        click.echo(_stats_line(folder, index_path, stats))


def _stats_line(folder: Path, index_path: Path, stats: IndexStats) -> str:
    reindexed = f", {stats.reindexed} re-indexed for the dictionary" if stats.reindexed else ""
    return (
        f"indexed {folder} into {index_path}: {_documents(stats.documents)} "
        f"({stats.added} added, {stats.changed} changed, {stats.removed} removed, "
        f"{len(stats.skipped)} skipped, {stats.unchanged} unchanged{reindexed}) "
        f"in {stats.elapsed_s:.1f} s"
    )


class _progress_bar:
    """A progress bar on stderr for long runs on a terminal; nothing otherwise."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._shown = 0

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not sys.stderr.isatty():
            return None
        return self._update

    def _update(self, done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        if self._bar is None:
            # width 0: the bar takes what the terminal's width leaves, so that the line
            # never wraps (a wrapped line scrolls at every update)
            self._bar = click.progressbar(
                length=total, label="indexing", file=sys.stderr, show_pos=True, width=0
            )
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done
        if done == total:  # Whoosh's commit comes next and takes longer than adding did
            self._bar.__exit__(None, None, None)
            self._bar = None
            click.echo("writing the index…", err=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


# "-卡梅隆" excludes a word: let words that look like options through as words.
WORDS_CONTEXT = {"ignore_unknown_options": True}


@cli.command("query", context_settings=WORDS_CONTEXT)
@click.argument("words", nargs=-1, required=True)
@index_option
@click.option(
    "--limit", "-n", default=10, show_default=True, type=click.IntRange(min=0), help="Number of hits (0: count only)."
)
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0), help="Hits to skip (paging).")
@click.option(
    "--sort",
    type=click.Choice(["relevance", "date", "-date", "title"]),
    default="relevance",
    show_default=True,
    help="Order of hits; date is oldest first, -date newest first.",
)
@click.option("--facets", default="", help="Count matches per value: any of tag,source,author,year.")
@click.option("--fields", default="", help="JSON hit fields to add: author,source,url,summary (or a full list).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--prefix", is_flag=True, help="The last word is still being typed: Clau finds Claude.")
@user_errors
def query_command(
    words: tuple[str, ...],
    index_path: Path,
    limit: int,
    offset: int,
    sort: str,
    facets: str,
    fields: str,
    as_json: bool,
    prefix: bool,
) -> None:
    """Search the index. Words must all match; "quoted words" are a phrase;
    OR between words; -word excludes; filters: tag:AI author:NAME source:NAME
    path:FOLDER/ title:WORD date:2024-07 date:2023-05..2023-11 date:>=2024-01-01.
    """
    from .index import Index
    from .query import FACETS
    from .results import DEFAULT_HIT_FIELDS, HIT_FIELDS

    facet_names = [name.strip() for name in facets.split(",") if name.strip()]
    for name in facet_names:
        if name not in FACETS:
            raise click.BadParameter(f"unknown facet {name!r}; use {', '.join(FACETS)}", param_hint="--facets")
    hit_fields = list(DEFAULT_HIT_FIELDS)
    for name in (n.strip() for n in fields.split(",") if n.strip()):
        if name not in HIT_FIELDS:
            raise click.BadParameter(f"{name!r}; choose from {', '.join(HIT_FIELDS)}", param_hint="--fields")
        if name not in hit_fields:
            hit_fields.append(name)
    query = _query_text(words)
    results = Index(index_path).search(
        query, limit=limit, offset=offset, sort=sort, facets=facet_names, prefix=prefix
    )
    if as_json:
        click.echo(_json(results.to_dict(hit_fields)))
        return
    click.echo(_render_results(results, color=sys.stdout.isatty()), color=sys.stdout.isatty())


@cli.command("related")
@click.argument("path")
@index_option
@click.option("--limit", "-n", default=10, show_default=True, type=click.IntRange(min=1), help="Number of hits.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@user_errors
def related_command(path: str, index_path: Path, limit: int, as_json: bool) -> None:
    """Documents most related to the one at PATH (as `query` shows it): shared
    distinctive words and shared tags."""
    from .index import Index

    results = Index(index_path).related(path, limit=limit)
    if as_json:
        click.echo(_json(results.to_dict()))
        return
    click.echo(_render_results(results, color=sys.stdout.isatty()), color=sys.stdout.isatty())


@cli.command("serve")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (not loopback: a warning).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: a free port.")
@click.option("--no-watch", is_flag=True, help="Serve the index as it is, without following the folder.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@user_errors
def serve_command(
    folder: Path | None, index_path: Path, host: str, port: int, no_watch: bool, open_browser: bool
) -> None:
    """Serve a search page and a JSON API (/api/search, /api/related, /api/document)
    at the URL printed, keeping the index in sync with FOLDER (default: the folder it
    was built from) as files change. Ctrl-C stops."""
    from . import server

    root = _synced(folder, index_path, sync=not no_watch)
    if not server.is_loopback(host):
        click.echo(f"warning: serving your notes to the network on {host}; anyone reaching it can read them", err=True)
    listener = server.listen(host, port)

    def ready() -> None:
        click.echo(listener.url)
        if open_browser:
            click.launch(listener.url)

    report = functools.partial(click.echo, err=True)
    server.serve(index_path, listener, follow=None if no_watch else root, report=report, on_ready=ready)


@cli.command("watch")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@index_option
@user_errors
def watch_command(folder: Path | None, index_path: Path) -> None:
    """Keep the index in sync with FOLDER (default: the folder it was built from) as
    files change, printing a line per sync. Ctrl-C stops."""
    from .watch import Follower, follow_until_stopped

    root = _synced(folder, index_path, sync=True)
    click.echo(f"watching {root} for {index_path}; Ctrl-C stops", err=True)
    follow_until_stopped(Follower(index_path, root, click.echo))


def _synced(folder: Path | None, index_path: Path, *, sync: bool) -> Path:
    """The folder of the index, built from `folder` if there is none yet, else synced
    with it when `sync`."""
    from .errors import IndexNotFoundError, SearchkitError
    from .index import Index

    ix = Index(index_path)
    if folder is None and not ix.exists:
        raise IndexNotFoundError(index_path)
    root = folder or ix.root()
    if root is None:
        raise SearchkitError(f"the index at {index_path} has no folder on record; give it: searchkit serve DIR")
    if sync or not ix.exists:
        with _progress_bar() as progress:
            stats = ix.update(root, progress=progress)
        click.echo(_stats_line(root, index_path, stats), err=True)
    return root


@cli.command("explain", context_settings=WORDS_CONTEXT)
@click.argument("words", nargs=-1, required=True)
@click.option("--doc", "path", required=True, help="Path of the document, as `query` shows it.")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@user_errors
def explain_command(words: tuple[str, ...], path: str, index_path: Path, as_json: bool) -> None:
    """Show why a document ranks where it does for a query: the query's tokens,
    and the score each term earns in each field of the document.
    """
    from .index import Index

    explanation = Index(index_path).explain(_query_text(words), path)
    if as_json:
        click.echo(_json(explanation.to_dict()))
        return
    click.echo(_render_explanation(explanation))


@cli.group("dict")
def dict_group() -> None:
    """Words to keep whole when segmenting (names like "Stability AI").

    Tags, wiki-link targets, 对象 names and short titles are learned from the vault;
    words added here go to dictionary.txt in the index folder. The next
    `searchkit index` re-indexes the documents that contain changed words.
    """


@dict_group.command("add")
@click.argument("words", nargs=-1, required=True)
@index_option
@user_errors
def dict_add(words: tuple[str, ...], index_path: Path) -> None:
    """Add WORDS (quote a word with spaces: "Stability AI")."""
    from .index import Index

    ix = Index(index_path)
    added = ix.add_words(words)
    for word in words:
        if word not in added:
            click.echo(f"already in the dictionary: {word}", err=True)
    if added:
        click.echo(f"added {len(added)} word{'s' if len(added) != 1 else ''} to {ix.user_dictionary_path}; "
                   "run `searchkit index` to apply them")


@dict_group.command("remove")
@click.argument("words", nargs=-1, required=True)
@index_option
@user_errors
def dict_remove(words: tuple[str, ...], index_path: Path) -> None:
    """Remove WORDS that were added with `dict add`."""
    from .index import Index

    ix = Index(index_path)
    removed = ix.remove_words(words)
    for word in words:
        if word not in removed:
            click.echo(f"not in {ix.user_dictionary_path}: {word}", err=True)
    if removed:
        click.echo(f"removed {len(removed)} word{'s' if len(removed) != 1 else ''}; "
                   "run `searchkit index` to apply")


@dict_group.command("list")
@index_option
@click.option("--all", "show_all", is_flag=True, help="Also list the words learned from the vault.")
@user_errors
def dict_list(index_path: Path, show_all: bool) -> None:
    """List the words added with `dict add` (and, with --all, every word in use)."""
    from .index import Index

    ix = Index(index_path)
    words = ix.dictionary() if show_all else ix.user_words()
    for word in words:
        click.echo(word)


def _render_explanation(explanation: Explanation) -> str:
    lines = [f"query: {_clean(explanation.query)}  →  tokens: {' · '.join(explanation.tokens)}"]
    if explanation.rank is None:
        lines.append(
            f"{_clean(explanation.path)}: does not match ({explanation.total} other documents do)"
        )
    else:
        how = "every word matches" if explanation.match == "all" else "partial match"
        lines.append(
            f"{_clean(explanation.path)}: rank {explanation.rank} of {explanation.total} "
            f"({how}), score {explanation.score:.2f}"
        )
    for part in explanation.contributions:
        note = f"  ({part.note})" if part.note else ""
        lines.append(f"  {part.score:7.2f}  {part.field:<8} {part.term}{note}")
    if explanation.missing:
        lines.append(f"not in this document: {' · '.join(explanation.missing)}")
    if explanation.unscored:
        lines.append(f"not scored (question words and particles): {' · '.join(explanation.unscored)}")
    return "\n".join(lines)


def _render_results(results: SearchResults, *, color: bool) -> str:
    if results.total == 0:
        return f"no documents match {_clean(results.query)}"
    lines = []
    shown = len(results.hits)
    count = _documents(results.total)
    header = f"{count} {'matches' if results.total == 1 else 'match'}"
    if results.match == "partial":
        header = f"{count} {'matches' if results.total == 1 else 'match'} some of the words, best first"
    if shown < results.total and (shown or results.offset):  # not for a count-only query (--limit 0)
        first = results.offset + 1
        header += f" (showing {first}–{results.offset + shown})" if shown else f" (none past {results.offset})"
    if results.corrected_query is not None:
        lines.append(f"showing results for {_clean(results.corrected_query)} (and as typed)")
    if results.topic is not None:
        header += f", with the notes tagged {_clean(results.topic)}"
    lines.append(header)
    for name, counts in results.facets.items():
        shown_counts = "  ".join(f"{_clean(value)} {count}" for value, count in counts[:10])
        more = f"  … {len(counts) - 10} more" if len(counts) > 10 else ""
        lines.append(f"  {name}: {shown_counts}{more}")
    for number, hit in enumerate(results.hits, results.offset + 1):
        lines.append("")
        lines.extend(_render_hit(number, hit, color=color))
    return "\n".join(lines)


def _render_hit(number: int, hit: Hit, *, color: bool) -> list[str]:
    title = _clean(hit.title)
    lines = [f"{number:>2}. {click.style(title, bold=True) if color else title}"]
    details = [_clean(hit.path)]
    if hit.date:
        details.append(hit.date)
    if hit.tags:
        details.append(" ".join(f"#{_clean(tag)}" for tag in hit.tags))
    lines.append("    " + click.style("  ".join(details), dim=True) if color else "    " + "  ".join(details))
    if hit.snippet_text:
        lines.append("    " + _render_snippet(hit, color=color))
    return lines


def _render_snippet(hit: Hit, *, color: bool) -> str:
    text = hit.snippet_text
    pieces = []
    cursor = 0
    for start, end in hit.snippet_ranges:
        pieces.append(_clean(text[cursor:start]))
        word = _clean(text[start:end])
        pieces.append(click.style(word, fg="red", bold=True) if color else word)
        cursor = end
    pieces.append(_clean(text[cursor:]))
    return "".join(pieces)


def _query_text(words: tuple[str, ...]) -> str:
    """The query as typed. Bytes that are not UTF-8 (a terminal in GBK) reach Python
    as lone surrogates: read them as GB18030 when they are, else replace them; say so."""
    query = " ".join(words)
    if not _SURROGATE.search(query):
        return query
    from .documents import read_undecoded

    decoded, as_gb18030 = read_undecoded(query)
    how = "read it as GB18030" if as_gb18030 else "replaced the bytes that are not with \ufffd"
    click.echo(f"the query is not UTF-8; {how}: {_clean(decoded)}", err=True)
    return decoded


def _documents(count: int) -> str:
    return f"{count} document{'' if count == 1 else 's'}"


def _clean(text: str) -> str:
    """Drop control characters a document could use to garble a terminal."""
    return _CONTROL.sub("", _utf8(text))


def _utf8(text: str) -> str:
    """Undecodable bytes (in a file name, say) reach Python as lone surrogates, which
    stdout would write out as bytes that are not UTF-8: show them as \ufffd."""
    if _SURROGATE.search(text):
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _json(data: object) -> str:
    return _utf8(json.dumps(data, ensure_ascii=False))
