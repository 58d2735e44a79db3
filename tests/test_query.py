"""The query language (query.py): the trees `parse_query` builds, every QueryError it,
`parse_dates` and `check_options` raise (with its position), date ranges, clean_query."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchkit import QueryError
from searchkit.errors import OptionError
from searchkit.query import (
    MAX_NESTING,
    All,
    Any_,
    DateRange,
    Filter,
    Node,
    Not,
    Phrase,
    Word,
    check_options,
    clean_query,
    parse_dates,
    parse_query,
)


def W(text: str) -> Word:  # short for Word, to keep the trees below readable
    return Word(text)


def error_of(query: str) -> QueryError:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    return caught.value


# -- trees --


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        # words: all must match
        ("好莱坞", W("好莱坞")),
        ("好莱坞 罢工", All((W("好莱坞"), W("罢工")))),
        ("  好莱坞 \u3000 罢工  ", All((W("好莱坞"), W("罢工")))),
        ("C++ GPT-4o", All((W("C++"), W("GPT-4o")))),
        # phrases, with every kind of quote, and words glued to them
        ('"好莱坞编剧罢工"', Phrase("好莱坞编剧罢工")),
        ("“好莱坞编剧罢工”", Phrase("好莱坞编剧罢工")),
        ("「好莱坞编剧罢工」", Phrase("好莱坞编剧罢工")),
        ("『好莱坞编剧罢工』", Phrase("好莱坞编剧罢工")),
        ('"Claude Code"', Phrase("Claude Code")),
        ('“Claude Code"', Phrase("Claude Code")),  # “ may close with " and back
        ('"Claude Code”', Phrase("Claude Code")),
        ("”Claude Code”", Phrase("Claude Code")),
        ('"a「b』c"', Phrase("a「b』c")),  # other quotes inside are text
        ('""', Phrase("")),
        ('"a" "b"', All((Phrase("a"), Phrase("b")))),
        ('好莱坞"编剧 罢工"', All((W("好莱坞"), Phrase("编剧 罢工")))),
        ('"a"b', All((Phrase("a"), W("b")))),
        # OR binds looser than the implicit AND
        ("spdlog OR glog", Any_((W("spdlog"), W("glog")))),
        ("a OR b OR c", Any_((W("a"), W("b"), W("c")))),
        ("a b OR c", Any_((All((W("a"), W("b"))), W("c")))),
        ("a OR b c", Any_((W("a"), All((W("b"), W("c")))))),
        ("a AND b", All((W("a"), W("b")))),
        ("a AND b OR c", Any_((All((W("a"), W("b"))), W("c")))),
        ("a AND AND b", All((W("a"), W("b")))),  # a second AND is taken as the first
        ("a AND NOT b", All((W("a"), Not(W("b"))))),
        ("a OR -b", Any_((W("a"), Not(W("b"))))),
        # operators are upper case only; inside a word they are text
        ("a or b and not c", All(tuple(map(W, "a or b and not c".split())))),
        ("ANDROID ORACLE NOTE", All((W("ANDROID"), W("ORACLE"), W("NOTE")))),
        # exclusion
        ("好莱坞 -卡梅隆", All((W("好莱坞"), Not(W("卡梅隆"))))),
        ("好莱坞 NOT 卡梅隆", All((W("好莱坞"), Not(W("卡梅隆"))))),
        ("-卡梅隆", Not(W("卡梅隆"))),
        ("NOT NOT a", Not(Not(W("a")))),
        ("NOT -a", Not(Not(W("a")))),
        ("-NOT a", Not(Not(W("a")))),
        ("-(a OR b)", Not(Any_((W("a"), W("b"))))),
        ('-"a b"', Not(Phrase("a b"))),
        # a hyphen that does not start a word
        ("GPT-4o", W("GPT-4o")),
        ("a-b-c", W("a-b-c")),
        ("a-", W("a-")),
        ("-", W("-")),  # alone, or before a space or another -, it is a word
        ("a - b", All((W("a"), W("-"), W("b")))),
        ("--x", W("--x")),
        ("a --", All((W("a"), W("--")))),
        ("- -a", All((W("-"), Not(W("a"))))),
        ("-)", Not(W(")"))),  # a ) that closes nothing is text
        # parentheses
        ("(spdlog OR glog) 日志", All((Any_((W("spdlog"), W("glog"))), W("日志")))),
        ("((a))", W("a")),
        ("(a)OR(b)", Any_((W("a"), W("b")))),
        ("a(b)", All((W("a"), W("b")))),
        # a ) that closes nothing, or a pair with nothing inside, is text (pasted `1)`, `print()`)
        ("a )", All((W("a"), W(")")))),
        ("(a))", All((W("a"), W(")")))),
        ("a) b", All((W("a"), W(")"), W("b")))),
        (")", W(")")),
        ("()", All((W("("), W(")")))),
        ("a ( ) b", All((W("a"), W("("), W(")"), W("b")))),
        ("print() 函数", All((W("print"), W("("), W(")"), W("函数")))),
        ("(())", All((W("("), W(")")))),
        ("(a b) OR (c -d)", Any_((All((W("a"), W("b"))), All((W("c"), Not(W("d"))))))),
        # addresses and other colons stay words
        ("https://x", W("https://x")),
        ("http://example.com/a?b=c 好", All((W("http://example.com/a?b=c"), W("好")))),
        ("x:/y", W("x:/y")),
        ("foo:", W("foo:")),  # an unknown name with no value is text
        ("note: 好", All((W("note:"), W("好")))),
        ("16:9", W("16:9")),
        ("好tag:AI", W("好tag:AI")),  # a filter only starts a word
        ('"x"tag:AI', All((Phrase("x"), W("tag:AI")))),  # ... and a closing quote does not count as a start
    ],
)
def test_trees(query: str, tree: Node) -> None:
    assert parse_query(query) == tree


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("tag:AI", Filter("tag", "AI")),
        ("TAG:AI", Filter("tag", "AI")),  # the name in any case; the value as written
        ("tag:00-元语/AI", Filter("tag", "00-元语/AI")),
        ("author:宝玉", Filter("author", "宝玉")),
        ("source:微信公众号", Filter("source", "微信公众号")),
        ("path:01-博客/", Filter("path", "01-博客/")),
        ("title:罢工", Filter("title", "罢工")),
        ('title:"Claude Code"', Filter("title", "Claude Code")),
        ("title:“Claude Code”", Filter("title", "Claude Code")),
        ("title:「好莱坞 罢工」", Filter("title", "好莱坞 罢工")),
        ("tag:『AI』", Filter("tag", "AI")),
        ('title:" Claude "', Filter("title", "Claude")),  # a quoted value is stripped
        ("title:x y", All((Filter("title", "x"), W("y")))),
        ('title:"x"y', All((Filter("title", "x"), W("y")))),
        ("(tag:AI)", Filter("tag", "AI")),  # an unquoted value ends at a parenthesis
        ("-tag:llm", Not(Filter("tag", "llm"))),
        ("NOT tag:llm", Not(Filter("tag", "llm"))),
        ("(tag:AI OR tag:LLM) 罢工", All((Any_((Filter("tag", "AI"), Filter("tag", "LLM"))), W("罢工")))),
        ("date:2024", Filter("date", "2024", DateRange("2024", "2024"))),
        ("date:2024-07-01", Filter("date", "2024-07-01", DateRange("2024-07-01", "2024-07-01"))),
        ('date:"2023-05..2023-11"', Filter("date", "2023-05..2023-11", DateRange("2023-05", "2023-11"))),
        ('date:" 2023-05 .. 2023-11 "', Filter("date", "2023-05 .. 2023-11", DateRange("2023-05", "2023-11"))),
        ("date:2024-01..", Filter("date", "2024-01..", DateRange(low="2024-01"))),
        ("date:>=2024-01-01", Filter("date", ">=2024-01-01", DateRange(low="2024-01-01"))),
        ("date:<2024", Filter("date", "<2024", DateRange(high="2024", high_exclusive=True))),
        (
            "好莱坞 tag:AI -tag:llm date:2024",
            All(
                (
                    W("好莱坞"),
                    Filter("tag", "AI"),
                    Not(Filter("tag", "llm")),
                    Filter("date", "2024", DateRange("2024", "2024")),
                )
            ),
        ),
    ],
)
def test_filters(query: str, tree: Node) -> None:
    assert parse_query(query) == tree


def test_module_docstring_examples() -> None:
    # Words separated by spaces must all match; "quoted text" (also “…” and 「…」) is a phrase;
    # OR between words; -word or NOT word excludes; parentheses group.
    assert parse_query("words separated by spaces") == All(tuple(map(W, "words separated by spaces".split())))
    assert parse_query('"quoted text"') == parse_query("“quoted text”") == parse_query("「quoted text」")
    assert parse_query('"quoted text"') == Phrase("quoted text")
    assert parse_query("word OR other") == Any_((W("word"), W("other")))
    assert parse_query("a -word") == parse_query("a NOT word") == All((W("a"), Not(W("word"))))
    assert parse_query("(a OR b) c") == All((Any_((W("a"), W("b"))), W("c")))


def test_readme_examples_parse() -> None:
    examples = [
        "好莱坞 罢工", "好莱坞罢工", '"好莱坞编剧罢工"', "spdlog OR glog", "好莱坞 -卡梅隆", "好莱坞 NOT 卡梅隆",
        "(spdlog OR glog) 日志", "tag:AI", "tag:00-元语/AI", "author:宝玉", "source:微信公众号", "path:01-博客/",
        "title:罢工", 'title:"Claude Code"', "date:2024", "date:2024-07", "date:2024-07-01", "date:2023-05..2023-11",
        "date:2024-01..", "date:>=2024-01-01", "date:<2024", "好莱坞 tag:AI -tag:llm date:2024", "罢工 tag:AI",
        "tag:Claude", "大模型", "Claude Code",
    ]  # fmt: skip
    for query in examples:
        assert isinstance(parse_query(query), Word | Phrase | Filter | Not | All | Any_)


# -- errors --


@pytest.mark.parametrize(
    ("query", "position", "hint"),
    [
        # nothing to search
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("\x00\t\n\x1b", None, "empty"),  # nothing left once cleaned
        # quotes: the position of the opening quote
        ('"abc', 0, "unclosed quote"),
        ('好莱坞 "罢工', 4, "unclosed quote"),
        ("“abc", 0, "unclosed quote"),
        ("「abc", 0, "unclosed quote"),
        ("『abc」", 0, "unclosed quote"),  # 『 closes only with 』
        ("「abc』", 0, "unclosed quote"),
        ('abc"', 3, "unclosed quote"),
        ('"a" "b', 4, "unclosed quote"),
        ('"a” b"', 5, "unclosed quote"),  # ” closed the first, the last " opens another
        ('-"', 1, "unclosed quote"),
        ('title:"abc', 6, "unclosed quote"),
        ('( "abc', 2, "unclosed quote"),  # the lexer's errors come before the parser's
        # parentheses
        ("(a", 0, "unclosed parenthesis"),
        ("a (b OR c", 2, "unclosed parenthesis"),
        ("((a)", 0, "unclosed parenthesis"),
        ("(a (b)", 0, "unclosed parenthesis"),
        ("(", 1, "expected a word"),  # nothing after it: the end of the query
        ("a (", 3, "expected a word"),
        # OR
        ("OR", 0, "OR needs a word before it"),
        ("OR a", 0, "OR needs a word before it"),
        ("(OR a)", 1, "OR needs a word before it"),
        ("a OR", 2, "OR needs a word after it"),
        ("a OR OR b", 2, "OR needs a word after it"),
        ("(a OR) b", 3, "OR needs a word after it"),
        # AND
        ("AND", 0, "AND needs a word on both sides"),
        ("AND a", 0, "AND needs a word on both sides"),
        ("a AND", 2, "AND needs a word on both sides"),
        ("a AND OR b", 2, "AND needs a word on both sides"),
        ("(a AND) b", 3, "AND needs a word on both sides"),
        ("a OR AND b", 5, "AND needs a word on both sides"),
        ("(AND a)", 1, "AND needs a word on both sides"),
        # NOT and -
        ("NOT", 0, "NOT needs a word after it"),
        ("a NOT", 2, "NOT needs a word after it"),
        ("NOT OR a", 0, "NOT needs a word after it"),
        ("NOT AND a", 0, "NOT needs a word after it"),
        ("(a NOT) b", 3, "NOT needs a word after it"),
        ("a NOT NOT", 6, "NOT needs a word after it"),
        ("(a -)", 3, "- needs a word after it"),
        ("-OR a", 0, "- needs a word after it"),
        ("-AND a", 0, "- needs a word after it"),
        # fields: the position of the field's name
        ("foo:bar", 0, "unknown field 'foo'"),
        ("好莱坞 Foo:bar", 4, "unknown field 'foo'"),
        ("(foo:bar)", 1, "unknown field 'foo'"),
        ("-foo:bar", 1, "unknown field 'foo'"),
        ('foo:"x y"', 0, "unknown field 'foo'"),
        ("Re:Zero", 0, "unknown field 're'"),  # a title with a colon reads as a field
        ("https:x", 0, "unknown field 'https'"),
        ("tag:", 0, "tag: needs a value"),
        ("a title: b", 2, "title: needs a value"),
        ('title:""', 0, "title: needs a value"),
        ('title:"  "', 0, "title: needs a value"),
        ("title:「」", 0, "title: needs a value"),
        ("tag:(AI)", 0, "tag: needs a value"),  # an unquoted value ends at the parenthesis
        ("(tag:)", 1, "tag: needs a value"),
        ("date:", 0, "date: needs a value"),
        ("path: 01-博客/", 0, "path: needs a value"),
        # dates: the position of the date: filter
        ("date:2024-13", 0, "invalid date '2024-13'"),
        ("date:abc", 0, "invalid date 'abc'"),
        ("date:2024-1", 0, "invalid date '2024-1'"),
        ("date:2024-00", 0, "invalid date"),
        ("date:2024-07-32", 0, "invalid date"),
        ("date:2024-07-00", 0, "invalid date"),
        ("date:24", 0, "invalid date"),
        ("date:20240701", 0, "invalid date"),
        ("date:2024/07", 0, "invalid date"),
        ('date:"2024 07"', 0, "invalid date"),
        ("date:2023-05..2023-13", 0, "invalid date '2023-05..2023-13'"),
        ("date:2023-05..abc", 0, "invalid date"),
        ("date:abc..2023", 0, "invalid date"),
        ("date:2023..2024..2025", 0, "invalid date"),
        ("date:>=", 0, "invalid date '>='"),
        ("date:>2024-1", 0, "invalid date"),
        ("date:<abc", 0, "invalid date"),
        ("date:<=2024-13-01", 0, "invalid date"),
        ("好莱坞 date:2024-13", 4, "invalid date"),
        ("a OR date:abc", 5, "invalid date"),
        ("a AND date:abc", 6, "invalid date"),
        ("-date:abc", 1, "invalid date"),
        ("NOT date:abc", 4, "invalid date"),
        ("(date:abc)", 1, "invalid date"),
        ("( date:abc", 2, "invalid date"),  # before the unclosed parenthesis is noticed
        ("DATE:abc", 0, "invalid date"),
    ],
)
def test_errors(query: str, position: int | None, hint: str) -> None:
    error = error_of(query)
    assert error.position == position
    assert hint in error.hint
    assert error.query == clean_query(query)
    where = f" at character {position + 1}" if position is not None else ""  # counted from 1 for people
    assert str(error) == f"cannot read the query {error.query!r}{where}: {error.hint}"


def test_error_positions_count_in_the_cleaned_query() -> None:
    error = error_of("\x00\x00a\t(b")
    assert error.query == "a (b"
    assert error.position == 2 and error.query[error.position] == "("


def test_an_unknown_field_lists_the_known_ones() -> None:
    hint = error_of("foo:bar").hint
    for name in ("tag", "title", "author", "source", "path", "date"):
        assert f"{name}:" in hint


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("(" * 40, 32),
        ("(" * 400 + "好" + ")" * 400, 32),
        ("NOT " * 1000 + "好", 4 * 32),
        ("-(" * 400 + "好" + ")" * 400, 32),
        ("a " + "(" * 1000, 2 + 32),
    ],
)
def test_deeply_nested_queries_raise_a_query_error(query: str, position: int) -> None:
    """A recursive parser would raise RecursionError (a traceback in the CLI)."""
    error = error_of(query)
    assert "nested more than 32 levels" in error.hint and error.position == position


def test_nesting_within_the_limit_parses() -> None:
    tree: Node = W("好")
    for _ in range(MAX_NESTING):
        tree = Not(tree)
    assert parse_query("(" * MAX_NESTING + "好" + ")" * MAX_NESTING) == W("好")
    assert parse_query("NOT " * MAX_NESTING + "好") == tree


QUOTE_CHARACTERS = set('"“”「『')


PIECES = [
    "好", "罢工", "a", "OR", "AND", "NOT", "-", "--", "(", ")", '"', "“", "」", "『", "tag:", "tag:AI", "Title:x",
    'title:"', "date:", "date:2024", "date:2024-13", "date:..2023", "date:>=", "foo:bar", "foo:", "https://x", "\x00",
]  # fmt: skip
CHARACTERS = st.text(alphabet=st.sampled_from(list('好罢 "“”「」『』()-ORNTAD:tagdeiflmo0129.><=\x00\t')), max_size=25)
JOINED_PIECES = st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(["", " ", " ", "\t"])), max_size=8).map(
    lambda pieces: "".join(piece + space for piece, space in pieces)
)
QUERIES = CHARACTERS | JOINED_PIECES


@settings(max_examples=400, deadline=None)
@given(QUERIES)
def test_every_error_points_at_its_cause(query: str) -> None:
    try:
        tree = parse_query(query)
    except QueryError as error:
        text, position, hint = error.query, error.position, error.hint
        assert text == clean_query(query)
        if position is None:
            assert "empty" in hint and not text.strip()
            return
        assert 0 <= position <= len(text)
        at = text[position:]
        if "unclosed quote" in hint:
            assert at[0] in QUOTE_CHARACTERS
        elif "unmatched closing" in hint:
            assert at[0] == ")"
        elif "parenthes" in hint:
            assert at[0] == "("
        elif hint.startswith(("OR ", "AND ", "NOT ", "- ")):
            assert at.startswith(hint.split()[0])
        elif "unknown field" in hint or "needs a value" in hint or "invalid date" in hint:
            assert re.match(r"[A-Za-z]+:", at)
        else:
            assert hint == "expected a word here"
            assert at == "" or at[0] == ")"
    else:
        assert isinstance(tree, Word | Phrase | Filter | Not | All | Any_)


# -- dates --


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("2024", DateRange("2024", "2024")),
        ("2024-07", DateRange("2024-07", "2024-07")),
        ("2024-07-01", DateRange("2024-07-01", "2024-07-01")),
        (" 2024 ", DateRange("2024", "2024")),
        ("2023-05..2023-11", DateRange("2023-05", "2023-11")),
        ("2023-05 .. 2023-11", DateRange("2023-05", "2023-11")),
        ("2023-05..", DateRange(low="2023-05")),
        ("..2023", DateRange(high="2023")),
        ("..", DateRange()),  # both ends open: every dated document
        ("2024-02-29", DateRange("2024-02-29", "2024-02-29")),  # a leap day
        (">=2024-01-01", DateRange(low="2024-01-01")),
        (">2024-01-01", DateRange(low="2024-01-01", low_exclusive=True)),
        ("<=2024", DateRange(high="2024")),
        ("<2024", DateRange(high="2024", high_exclusive=True)),
        (">= 2024", DateRange(low="2024")),
    ],
)
def test_parse_dates(spec: str, expected: DateRange) -> None:
    assert parse_dates(spec, f"date:{spec}") == expected


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("2024", ["2024-01-01", "2024-07-15", "2024-12-31", "2024"], ["2023-12-31", "2025-01-01"]),
        ("2024-07", ["2024-07-01", "2024-07-31"], ["2024-06-30", "2024-08-01", "2024"]),
        ("2024-07-01", ["2024-07-01"], ["2024-06-30", "2024-07-02"]),
        ("2023-05..2023-11", ["2023-05-01", "2023-08-15", "2023-11-30"], ["2023-04-30", "2023-12-01"]),
        ("2023-05-10..2023-05-20", ["2023-05-10", "2023-05-20"], ["2023-05-09", "2023-05-21"]),
        ("2023-05..", ["2023-05-01", "2099-12-31"], ["2023-04-30"]),
        ("..2023", ["1999-01-01", "2023-12-31"], ["2024-01-01"]),
        ("..", ["1970-01-01", "2099-12-31"], []),
        (">=2024-01-01", ["2024-01-01", "2024-01-02"], ["2023-12-31"]),
        (">=2024", ["2024-01-01", "2030-01-01"], ["2023-12-31"]),
        (">2024-01-01", ["2024-01-02"], ["2024-01-01", "2023-12-31"]),
        (">2024-07", ["2024-08-01"], ["2024-07-01", "2024-07-31"]),  # after the whole month
        (">2024", ["2025-01-01"], ["2024-01-01", "2024-12-31"]),
        ("<=2024-01-01", ["2024-01-01", "2023-12-31"], ["2024-01-02"]),
        ("<=2024-07", ["2024-07-01", "2024-07-31"], ["2024-08-01"]),  # up to the end of the month
        ("<=2024", ["2024-12-31"], ["2025-01-01"]),
        ("<2024-01-01", ["2023-12-31"], ["2024-01-01", "2024-01-02"]),
        ("<2024-07", ["2024-06-30"], ["2024-07-01", "2024-07-31"]),  # before the month begins
        ("<2024", ["2023-12-31"], ["2024-01-01", "2024-12-31"]),
    ],
)
def test_date_ranges_accept(spec: str, inside: list[str], outside: list[str]) -> None:
    dates = parse_dates(spec, f"date:{spec}")
    for date in inside:
        assert dates.accepts(date), date
    for date in outside:
        assert not dates.accepts(date), date


def test_parse_dates_reports_the_position_it_is_given() -> None:
    with pytest.raises(QueryError) as caught:
        parse_dates("2024-13", "好莱坞 date:2024-13", 4)
    assert caught.value.position == 4
    assert caught.value.query == "好莱坞 date:2024-13"
    assert "invalid date '2024-13'" in caught.value.hint
    with pytest.raises(QueryError) as caught:
        parse_dates("abc", "abc")
    assert caught.value.position is None
    with pytest.raises(QueryError) as caught:
        parse_dates(" 2023..2024-1 ", "q", 0)
    assert "invalid date '2023..2024-1'" in caught.value.hint  # the whole value, stripped


# -- options --


def test_check_options_accepts_the_defaults_and_every_sort_and_facet() -> None:
    for sort in ("relevance", "date", "-date", "title"):
        check_options("q", limit=1, offset=0, sort=sort, facets=())
    check_options("q", limit=10, offset=100, sort="relevance", facets=("tag", "source", "author", "year"))


@pytest.mark.parametrize(
    ("options", "hint"),
    [
        ({"limit": -1}, "limit: must be 0 (count only) or more"),
        ({"limit": -5}, "limit: must be 0"),
        ({"offset": -1}, "offset: must be 0 or more"),
        ({"sort": "newest"}, "sort: 'newest' is not one of relevance, date, -date, title"),
        ({"sort": "Date"}, "sort: 'Date' is not one of"),
        ({"sort": ""}, "sort: '' is not one of"),
        ({"facets": ("tag", "colour")}, "facets: unknown facet 'colour'"),
        ({"facets": ("tags",)}, "facets: unknown facet 'tags'; use tag, source, author, year"),
        ({"limit": -1, "offset": -1}, "limit:"),  # the first problem is the one reported
    ],
)
def test_check_options_errors(options: dict[str, object], hint: str) -> None:
    arguments: dict[str, object] = {"limit": 10, "offset": 0, "sort": "relevance", "facets": ()}
    arguments.update(options)
    with pytest.raises(OptionError) as caught:
        check_options("好莱坞", **arguments)  # type: ignore[arg-type]
    assert str(caught.value).startswith(hint) and "cannot read the query" not in str(caught.value)
    assert isinstance(caught.value, QueryError)
    assert caught.value.position is None
    assert caught.value.query == "好莱坞"


# -- cleaning --


@pytest.mark.parametrize(
    ("query", "cleaned"),
    [
        ("好莱坞\t罢工\n", "好莱坞 罢工 "),
        ("a\r\nb", "a  b"),
        ("\x00a\x1b[31mb\x7f", "a[31mb"),
        ("\x80a\x85\x9f", "a"),  # C1 controls too
        ("\ud800a\udfff\udcff", "a"),  # lone surrogates
        ("a\x0bb\x0cc", "abc"),  # vertical tab and form feed are dropped, not made spaces
        ("𠀀😀 寶可夢\u3000Ｃ＋＋", "𠀀😀 寶可夢\u3000Ｃ＋＋"),  # everything else is kept
        ("", ""),
    ],
)
def test_clean_query(query: str, cleaned: str) -> None:
    assert clean_query(query) == cleaned


def test_parse_query_cleans_first() -> None:
    assert parse_query("好莱坞\t罢工\x00") == All((W("好莱坞"), W("罢工")))
    assert parse_query("\ud800好莱坞") == W("好莱坞")


UNWANTED = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.text(alphabet="a好\t\r\n\x00\x0b\x85\ud800\udfff ", max_size=20))
def test_clean_query_keeps_only_wanted_characters_in_order(query: str) -> None:
    cleaned = clean_query(query)
    assert not UNWANTED.search(cleaned)
    assert clean_query(cleaned) == cleaned
    kept = iter(query.replace("\t", " ").replace("\r", " ").replace("\n", " "))
    assert all(char in kept for char in cleaned)  # a subsequence of the query, spaces for line breaks
    assert cleaned.count(" ") == sum(query.count(c) for c in " \t\r\n")
