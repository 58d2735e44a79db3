"""The postings file format (postings.py): what PostingsWriter writes, SegmentPostings
reads back, checked against a plain-Python model built from the same documents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchkit.blocks as blocks_module
from searchkit import arrays
from searchkit.arrays import sequence_starts
from searchkit.blocks import BLOCK_VALUES
from searchkit.postings import (
    FIXED_WIDTH,
    GRAMS_FIELD,
    MAGIC,
    FieldPostings,
    FixedWidthTerms,
    PostingsWriter,
    SegmentPostings,
)

TEXT_FIELDS = ("title", "body")
FIELDS = (*TEXT_FIELDS, GRAMS_FIELD)

# a document: per text field its (term, position) tokens, and its grams with their sorted offsets
Document = tuple[dict[str, list[tuple[str, int]]], dict[str, list[int]]]
Row = tuple[str, list[int], list[int], list[int]]
# documents added before, segments merged with their live documents, documents added after
MergeCase = tuple[list[Document], list[tuple[list[Document], list[int]]], list[Document]]

HAN = "好莱坞编剧罢工中华人民共和国寶可夢宝的是了一"
ALPHABET = HAN + "acgC+#-.4oé" + "𠀀"  # Han, Latin, symbols, one character beyond the BMP
ABSENT = "\uffff"  # sorts after every generated term, never generated
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- the model --


class Model:
    """What a postings file of `documents` (numbered from 0 in order) must say."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self.doc_count = len(documents)
        # field -> term -> document number -> sorted positions (for the grams, offsets)
        self.postings: dict[str, dict[str, dict[int, list[int]]]] = {name: {} for name in FIELDS}
        self.lengths: dict[str, list[int]] = {name: [] for name in FIELDS}
        for docnum, (tokens, grams) in enumerate(documents):
            for name in TEXT_FIELDS:
                field_tokens = tokens.get(name, [])
                self.lengths[name].append(len(field_tokens))
                for term, position in field_tokens:
                    self.postings[name].setdefault(term, {}).setdefault(docnum, []).append(position)
            self.lengths[GRAMS_FIELD].append(len(grams))  # distinct grams: a gram counts once
            for gram, offsets in grams.items():
                assert offsets and offsets == sorted(set(offsets))  # what the writer is given
                self.postings[GRAMS_FIELD].setdefault(gram, {})[docnum] = list(offsets)
        for table in self.postings.values():
            for by_document in table.values():
                for positions in by_document.values():
                    positions.sort()

    def row(self, name: str, term: str) -> Row:
        """The term as `iter_all` gives it: position deltas restart at each document."""
        by_document = self.postings[name][term]
        documents = sorted(by_document)
        deltas: list[int] = []
        for docnum in documents:
            positions = by_document[docnum]
            deltas.extend(b - a for a, b in zip([0, *positions], positions, strict=False))
        return term, documents, [len(by_document[d]) for d in documents], deltas


def fixed_width(terms: Sequence[str]) -> bool:
    """Whether a field with these terms stores them at a fixed width (no separators)."""
    return bool(terms) and all(len(term) <= FIXED_WIDTH for term in terms)


def check_streams(table: FieldPostings, term_count: int) -> None:
    """The two block streams of a field: every term has a run in each, blocks are
    numbered by their first term, and the offsets bound every block."""
    for stream in (table._postings, table._positions):
        assert len(stream.start) == term_count
        assert len(stream.offsets) == len(stream.first) + 1  # the end of the last block too
        assert list(stream.offsets) == sorted(stream.offsets)
        assert list(stream.first) == sorted(set(stream.first))
        if term_count:
            assert stream.first[0] == 0 and stream.first[-1] < term_count
            assert all(a < b for a, b in zip(stream.offsets, stream.offsets[1:], strict=False))  # none empty
        else:
            assert len(stream.first) == 0


def check_against_model(postings: SegmentPostings, model: Model) -> None:
    assert postings.doc_count == model.doc_count
    for name in FIELDS:
        table = postings.field(name)
        expected = model.postings[name]
        terms = sorted(expected)
        assert table.positional is True  # every field, the grams too, keeps positions
        assert len(table.terms) == len(terms)
        assert list(table.terms) == terms
        # in any field, terms of at most FIXED_WIDTH characters are stored at that width, else "\n"-separated
        assert isinstance(table.terms, FixedWidthTerms) is fixed_width(terms)
        assert list(table.lengths) == model.lengths[name]
        assert table.total_length == sum(model.lengths[name])
        check_streams(table, len(terms))
        everyone = set(range(model.doc_count))
        for term in terms:
            by_document = expected[term]
            documents, frequencies = table.documents(term)
            assert documents == sorted(by_document)
            assert table.doc_frequency(term) == len(by_document)
            assert frequencies is not None
            assert list(frequencies) == [len(by_document[d]) for d in documents]
            assert table.positions(term, everyone) == by_document
            some = set(documents[::2]) | {model.doc_count + 7}  # one the term is not in
            assert table.positions(term, some) == {d: by_document[d] for d in documents[::2]}
            assert table.positions(term, set()) == {}
            # one document at a time: of a long list, looked up rather than scanned
            for docnum in {*documents[:2], documents[-1], documents[len(documents) // 2]}:
                assert table.positions(term, {docnum}) == {docnum: by_document[docnum]}
            missing = [d for d in range(documents[-1]) if d not in by_document][:1] + [model.doc_count + 7]
            for docnum in missing:
                assert table.positions(term, {docnum}) == {}
        absent = {ABSENT, *(term + ABSENT for term in terms[:3]), *(t[:-1] for t in terms if t[:-1] not in expected)}
        for term in absent:
            assert table.documents(term) == ([], None)
            assert table.doc_frequency(term) == 0
            assert table.positions(term, everyone) == {}
        prefixes = {"", ABSENT} | {term[:k] for term in terms for k in (1, 2)} | set(terms) | absent
        for prefix in prefixes:
            assert table.with_prefix(prefix) == [t for t in terms if t.startswith(prefix)]
        rows = [
            (term, documents, None if f is None else list(f), None if p is None else list(p))
            for term, documents, f, p in table.iter_all()
        ]
        assert rows == [model.row(name, term) for term in terms]


def write(tmp_path: Path, writer: PostingsWriter) -> SegmentPostings:
    path = tmp_path / f"{uuid.uuid4().hex}.skp"
    writer.write(path)
    assert not path.with_name(path.name + ".tmp").exists()
    return SegmentPostings(path)


def build(tmp_path: Path, documents: Sequence[Document]) -> SegmentPostings:
    writer = PostingsWriter(TEXT_FIELDS)
    for tokens, grams in documents:
        writer.add_document(tokens, grams)
    assert writer.doc_count == len(documents)
    return write(tmp_path, writer)


# -- strategies --

TERMS = st.text(alphabet=ALPHABET, min_size=1, max_size=5)
SHORT_TERMS = st.text(alphabet=ALPHABET, min_size=1, max_size=FIXED_WIDTH)
SHORT_GRAMS = st.text(alphabet=HAN + "𠀀", min_size=1, max_size=FIXED_WIDTH)
LONG_GRAMS = st.text(alphabet=HAN, min_size=FIXED_WIDTH + 1, max_size=4)
# mostly small positions (so a term repeats at one position), sometimes anything a uint32 holds
POSITIONS = st.one_of(st.integers(0, 20), st.integers(0, 2**32 - 1))
# where a gram stands in its document: at least once, each offset once, in order
OFFSETS = st.lists(POSITIONS, min_size=1, max_size=5, unique=True).map(sorted)


@st.composite
def vocabularies(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    # words of at most FIXED_WIDTH characters only switch a text field to the fixed-width layout
    words = draw(st.lists(SHORT_TERMS if draw(st.booleans()) else TERMS, min_size=1, max_size=10, unique=True))
    grams = draw(st.lists(SHORT_GRAMS, min_size=1, max_size=10, unique=True))
    if draw(st.booleans()):  # longer grams switch the grams field to the separated layout
        grams += draw(st.lists(LONG_GRAMS, min_size=1, max_size=3, unique=True))
    return words, grams


def draw_documents(draw: st.DrawFn, vocabulary: tuple[list[str], list[str]], max_docs: int) -> list[Document]:
    words, grams = vocabulary
    documents: list[Document] = []
    for _ in range(draw(st.integers(0, max_docs))):
        tokens: dict[str, list[tuple[str, int]]] = {}
        for name in TEXT_FIELDS:
            field_tokens = draw(st.lists(st.tuples(st.sampled_from(words), POSITIONS), max_size=8))
            if len(field_tokens) > 0 or draw(st.booleans()):  # an empty field is given as [] or left out
                tokens[name] = field_tokens
        documents.append((tokens, draw(st.dictionaries(st.sampled_from(grams), OFFSETS, max_size=6))))
    return documents


@st.composite
def segments(draw: st.DrawFn, max_docs: int = 6) -> list[Document]:
    return draw_documents(draw, draw(vocabularies()), max_docs)


@st.composite
def merge_cases(draw: st.DrawFn) -> MergeCase:
    """Documents added before, segments merged with their live documents, documents
    added after; one vocabulary, so that the segments share terms."""
    vocabulary = draw(vocabularies())
    before = draw_documents(draw, vocabulary, 3)
    sources = []
    for _ in range(draw(st.integers(1, 3))):
        documents = draw_documents(draw, vocabulary, 6)
        live = draw(st.sets(st.integers(0, len(documents) - 1))) if documents else set()
        sources.append((documents, sorted(live)))
    return before, sources, draw_documents(draw, vocabulary, 2)


# -- round trips --


@FUZZ
@given(documents=segments())
def test_a_segment_reads_back_as_written(tmp_path: Path, documents: list[Document]) -> None:
    check_against_model(build(tmp_path, documents), Model(documents))


def first_in_sequence(model: Model, name: str, terms: list[str]) -> dict[int, int]:
    """Document → the first position at which `terms` follow one another, from the model."""
    by_term = [model.postings[name].get(term, {}) for term in terms]
    found = {}
    for docnum, positions in by_term[0].items():
        starts = [p for p in positions if all(p + k in by_term[k].get(docnum, ()) for k in range(1, len(terms)))]
        if starts:
            found[docnum] = min(starts)
    return found


@FUZZ
@given(documents=segments(max_docs=12), data=st.data())
def test_terms_in_sequence_one_by_one_and_as_arrays(
    tmp_path: Path, documents: list[Document], data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    postings, model = build(tmp_path, documents), Model(documents)
    for name in FIELDS:
        known = sorted(model.postings[name])
        if not known:
            continue
        terms = data.draw(st.lists(st.sampled_from(known), min_size=1, max_size=4))
        wanted = data.draw(st.sets(st.integers(0, len(documents) + 2)))
        expected = {d: start for d, start in first_in_sequence(model, name, terms).items() if d in wanted}
        for many in (0, 10**9):  # always as arrays, never
            monkeypatch.setattr(arrays, "MANY_CANDIDATES", many)
            documents_of, starts = sequence_starts(postings.field(name), terms, arrays.vector(sorted(wanted), "int64"))
            assert dict(zip(documents_of.tolist(), starts.tolist(), strict=True)) == expected
        for term in known:  # the arrays the ranking reads are the lists the rest reads
            listed, frequencies = postings.field(name).documents(term)
            as_arrays, frequencies_as_arrays = arrays.postings(postings.field(name), term)
            assert as_arrays.tolist() == listed
            assert (frequencies is None) == (frequencies_as_arrays is None)
            if frequencies is not None and frequencies_as_arrays is not None:
                assert frequencies_as_arrays.tolist() == list(frequencies)


def test_hand_made_segment(tmp_path: Path) -> None:
    documents: list[Document] = [
        (
            {"title": [("好莱坞", 0), ("罢工", 1)], "body": [("罢工", 3), ("罢工", 3), ("罢工", 1), ("c++", 2)]},
            {"罢工": [0, 4], "好": [3]},
        ),
        ({}, {}),  # an empty document
        ({"body": [("罢工", 0)]}, {"罢工": [7], "工": [8]}),
        ({"title": [], "body": []}, {}),
        ({"title": [("𠀀", 5)]}, {"𠀀": [2**32 - 1]}),
    ]
    postings = build(tmp_path, documents)
    check_against_model(postings, Model(documents))
    body = postings.field("body")
    documents_of, frequencies = body.documents("罢工")
    assert documents_of == [0, 2] and frequencies is not None and list(frequencies) == [3, 1]
    assert body.positions("罢工", {0, 1, 2}) == {0: [1, 3, 3], 2: [0]}  # a repeated position stays twice
    assert list(body.lengths) == [4, 0, 1, 0, 0]
    assert body.total_length == 5
    assert not isinstance(body.terms, FixedWidthTerms)  # "c++" is longer than FIXED_WIDTH
    assert postings.field("title").with_prefix("好") == ["好莱坞"]
    grams = postings.field(GRAMS_FIELD)
    assert grams.positional
    assert list(grams.terms) == ["好", "工", "罢工", "𠀀"]
    documents_of, frequencies = grams.documents("罢工")
    assert documents_of == [0, 2] and frequencies is not None and list(frequencies) == [2, 1]
    assert grams.positions("罢工", {0, 1, 2}) == {0: [0, 4], 2: [7]}
    assert grams.positions("𠀀", {4}) == {4: [2**32 - 1]}  # the largest offset a uint32 holds
    assert grams.positions("工", {0, 1}) == {}
    assert list(grams.lengths) == [2, 0, 2, 0, 1]  # distinct grams, however often each stands
    assert grams.total_length == 5
    assert grams.with_prefix("罢") == ["罢工"]
    assert isinstance(grams.terms, FixedWidthTerms)
    assert [(term, list(p or ())) for term, _, _, p in grams.iter_all()] == [
        ("好", [3]),
        ("工", [8]),
        ("罢工", [0, 4, 7]),  # deltas restart at each document
        ("𠀀", [2**32 - 1]),
    ]


def test_longer_grams_switch_to_the_separated_layout(tmp_path: Path) -> None:
    documents: list[Document] = [
        ({}, {"好": [0], "好莱坞": [0, 3], "罢工": [5]}),
        ({}, {"好莱": [1], "好莱坞编剧": [1]}),
    ]
    postings = build(tmp_path, documents)
    check_against_model(postings, Model(documents))
    grams = postings.field(GRAMS_FIELD)
    assert not isinstance(grams.terms, FixedWidthTerms)
    assert grams.with_prefix("好莱") == ["好莱", "好莱坞", "好莱坞编剧"]
    documents_of, frequencies = grams.documents("好莱坞编剧")
    assert documents_of == [1] and frequencies is not None and list(frequencies) == [1]
    assert grams.positions("好莱坞", {0, 1}) == {0: [0, 3]}


def test_short_words_in_a_text_field_are_stored_at_a_fixed_width(tmp_path: Path) -> None:
    """Not only the grams: any field whose terms all have at most FIXED_WIDTH characters."""
    documents: list[Document] = [
        ({"title": [("b", 0), ("a", 1), ("ab", 2), ("𠀀", 3)], "body": [("的", 0), ("罢工", 1), ("罢工者", 2)]}, {}),
        ({"title": [("a", 4), ("a", 0)], "body": [("的", 9)]}, {"的": [0]}),
    ]
    postings = build(tmp_path, documents)
    check_against_model(postings, Model(documents))
    title = postings.field("title")
    assert list(title.terms) == ["a", "ab", "b", "𠀀"]  # a shorter term sorts before its extensions
    assert isinstance(title.terms, FixedWidthTerms)
    assert title.with_prefix("a") == ["a", "ab"] and title.with_prefix("ab") == ["ab"]
    assert title.with_prefix("abc") == [] and title.documents("abc") == ([], None)
    assert title.positions("a", {0, 1}) == {0: [1], 1: [0, 4]}
    body = postings.field("body")
    assert not isinstance(body.terms, FixedWidthTerms)  # one longer word: the separated layout
    assert body.with_prefix("罢工") == ["罢工", "罢工者"]


def test_a_segment_without_documents(tmp_path: Path) -> None:
    postings = build(tmp_path, [])
    check_against_model(postings, Model([]))
    for name in FIELDS:
        table = postings.field(name)
        assert len(table.terms) == 0 and list(table.lengths) == [] and table.total_length == 0
        assert not isinstance(table.terms, FixedWidthTerms)
        assert table.with_prefix("") == [] and list(table.iter_all()) == []
        assert table.documents("好") == ([], None) and table.doc_frequency("好") == 0
        assert table.positions("好", {0}) == {}


def test_documents_without_any_term(tmp_path: Path) -> None:
    documents: list[Document] = [({}, {}), ({"title": [], "body": []}, {}), ({}, {})]
    postings = build(tmp_path, documents)
    check_against_model(postings, Model(documents))
    assert postings.doc_count == 3
    assert list(postings.field("body").lengths) == [0, 0, 0]
    assert list(postings.field(GRAMS_FIELD).lengths) == [0, 0, 0]


# -- lists longer than a compressed block --


def test_huge_posting_lists_and_many_blocks(tmp_path: Path) -> None:
    count = 100_000
    writer = PostingsWriter(TEXT_FIELDS)
    for docnum in range(count):
        body_tokens = [("的", 7), ("的", 0)]
        if docnum % 1000 == 0:
            body_tokens.append(("稀", docnum % 5))
        offsets = {"的": [docnum % 4, 9]} | ({"稀有": [docnum]} if docnum % 3 == 0 else {})
        writer.add_document({"title": [(f"w{docnum}", docnum)], "body": body_tokens}, offsets)
    postings = write(tmp_path, writer)
    assert postings.doc_count == count

    body = postings.field("body")
    # 的: documents and frequencies in one block, its two positions each in another
    assert 2 * count > BLOCK_VALUES
    documents, frequencies = body.documents("的")
    assert documents == list(range(count))
    assert frequencies is not None and set(frequencies) == {2} and len(frequencies) == count
    assert body.doc_frequency("的") == count
    assert body.positions("的", {0, 49_999, count - 1, count}) == {0: [0, 7], 49_999: [0, 7], count - 1: [0, 7]}
    assert body.documents("稀")[0] == list(range(0, count, 1000))
    assert body.positions("稀", {5000, 7000}) == {5000: [0], 7000: [0]}
    assert body.positions("稀", set(range(0, count, 1000))) == {d: [d % 5] for d in range(0, count, 1000)}
    assert body.total_length == 2 * count + count // 1000
    assert list(body.terms) == ["的", "稀"]
    assert isinstance(body.terms, FixedWidthTerms)
    # the long run of 的 fills its block in both streams, so 稀 starts the next one
    assert list(body._postings.first) == [0, 1] and list(body._positions.first) == [0, 1]

    grams = postings.field(GRAMS_FIELD)
    documents, frequencies = grams.documents("的")
    assert documents == list(range(count))
    assert frequencies is not None and set(frequencies) == {2} and len(frequencies) == count
    assert grams.positions("的", {0, 3, 50_001, count - 1, count}) == {
        0: [0, 9],
        3: [3, 9],
        50_001: [1, 9],
        count - 1: [(count - 1) % 4, 9],
    }
    assert grams.positions("的", set(range(count))) == {d: [d % 4, 9] for d in range(count)}
    documents, frequencies = grams.documents("稀有")
    assert documents == list(range(0, count, 3))
    assert frequencies is not None and set(frequencies) == {1}
    assert grams.positions("稀有", {0, 1, 99_999}) == {0: [0], 99_999: [99_999]}
    assert grams.doc_frequency("稀有") == len(range(0, count, 3))
    assert grams.total_length == count + len(range(0, count, 3))

    # 100,000 terms of two values each (document, frequency) fill many blocks of
    # postings, and of one position each several blocks of positions; every one reads back
    title = postings.field("title")
    assert len(title._postings.offsets) - 1 > 2 * count // BLOCK_VALUES
    assert len(title._positions.offsets) - 1 > count // BLOCK_VALUES > 1
    assert len(title._postings.first) == len(title._postings.offsets) - 1
    assert len(title._positions.first) == len(title._positions.offsets) - 1
    assert set(title._postings.first[1:]) - set(title._positions.first)  # the streams' blocks end apart
    check_streams(title, count)
    assert len(title.terms) == count
    seen = 0
    for term, documents, frequencies, deltas in title.iter_all():
        docnum = int(term[1:])
        assert documents == [docnum] and frequencies is not None and deltas is not None
        assert list(frequencies) == [1] and list(deltas) == [docnum]
        seen += 1
    assert seen == count
    # the terms on either side of each block boundary, of both streams
    for first in (*title._postings.first[1:], *title._positions.first[1:]):
        for term in (title.terms[first - 1], title.terms[first]):
            docnum = int(term[1:])
            documents, frequencies = title.documents(term)
            assert documents == [docnum] and frequencies is not None and list(frequencies) == [1]
            assert title.positions(term, {docnum}) == {docnum: [docnum]}
            assert title.positions(term, {docnum + 1}) == {}
    assert title.with_prefix("w9999") == ["w9999", *(f"w9999{i}" for i in range(10))]
    assert title.documents(f"w{count}") == ([], None)
    assert title.total_length == count


def test_merging_a_huge_segment_keeps_every_other_document(tmp_path: Path) -> None:
    count = 100_000
    writer = PostingsWriter(TEXT_FIELDS)
    for docnum in range(count):
        writer.add_document({"body": [("的", 0), ("的", docnum % 7 + 1)]}, {"的": [0, docnum % 5 + 1]})
    source = write(tmp_path, writer)
    merged_writer = PostingsWriter(TEXT_FIELDS)
    merged_writer.add_segment(source, range(1, count, 2))
    merged = write(tmp_path, merged_writer)
    assert merged.doc_count == count // 2
    body = merged.field("body")
    assert body.documents("的")[0] == list(range(count // 2))
    assert body.positions("的", {0, 1, count // 2 - 1}) == {
        0: [0, 1 % 7 + 1],
        1: [0, 3 % 7 + 1],
        count // 2 - 1: [0, (count - 1) % 7 + 1],
    }
    grams = merged.field(GRAMS_FIELD)
    documents, frequencies = grams.documents("的")
    assert documents == list(range(count // 2))
    assert frequencies is not None and set(frequencies) == {2}
    assert grams.positions("的", set(range(count // 2))) == {
        new: [0, (2 * new + 1) % 5 + 1] for new in range(count // 2)
    }
    assert list(grams.lengths) == [1] * (count // 2)
    assert body.total_length == count


# -- merging --


def check_merge(tmp_path: Path, case: MergeCase) -> None:
    before, sources, after = case
    writer = PostingsWriter(TEXT_FIELDS)
    expected = list(before)
    for tokens, grams in before:
        writer.add_document(tokens, grams)
    for documents, live in sources:
        source = build(tmp_path, documents)
        check_against_model(source, Model(documents))
        writer.add_segment(source, live)
        expected += [documents[old] for old in live]
    for tokens, grams in after:
        writer.add_document(tokens, grams)
    expected += after
    assert writer.doc_count == len(expected)
    merged = write(tmp_path, writer)
    check_against_model(merged, Model(expected))

    # and a merged segment merges again
    again = PostingsWriter(TEXT_FIELDS)
    again.add_segment(merged, range(0, len(expected), 2))
    check_against_model(write(tmp_path, again), Model(expected[::2]))


@FUZZ
@given(case=merge_cases())
def test_merging_keeps_the_live_documents_in_order(tmp_path: Path, case: MergeCase) -> None:
    check_merge(tmp_path, case)


@FUZZ
@given(case=merge_cases())
def test_merging_with_tiny_blocks(tmp_path: Path, case: MergeCase) -> None:
    """Blocks closed after every few values: each random segment spans many of them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks_module, "BLOCK_VALUES", 3)
        check_merge(tmp_path, case)


def test_merging_renumbers_after_the_documents_already_there(tmp_path: Path) -> None:
    source_documents: list[Document] = [
        ({"body": [(f"词{i}", i), ("都", 0)]}, {f"字{i}": [i], "都": [0, i + 1]}) for i in range(5)
    ]
    source = build(tmp_path, source_documents)
    writer = PostingsWriter(TEXT_FIELDS)
    writer.add_document({"body": [("都", 9)]}, {"都": [9]})
    writer.add_document({}, {})
    writer.add_segment(source, [1, 3, 4])  # 1 -> 2, 3 -> 3, 4 -> 4; 0 and 2 are dropped
    assert writer.doc_count == 5
    writer.add_document({"title": [("都", 1)]}, {"都": [1]})
    merged = write(tmp_path, writer)
    body = merged.field("body")
    assert body.documents("词1")[0] == [2]
    assert body.documents("词3")[0] == [3]
    assert body.documents("词4")[0] == [4]
    assert body.documents("词0") == ([], None) and body.documents("词2") == ([], None)
    assert "词0" not in list(body.terms)
    assert body.positions("都", {0, 2, 3, 4}) == {0: [9], 2: [0], 3: [0], 4: [0]}
    assert list(body.lengths) == [1, 0, 2, 2, 2, 0]
    grams = merged.field(GRAMS_FIELD)
    documents, frequencies = grams.documents("都")
    assert documents == [0, 2, 3, 4, 5] and frequencies is not None and list(frequencies) == [1, 2, 2, 2, 1]
    assert grams.positions("都", {0, 1, 2, 3, 4, 5}) == {0: [9], 2: [0, 2], 3: [0, 4], 4: [0, 5], 5: [1]}
    assert grams.positions("字3", {3}) == {3: [3]}
    assert grams.with_prefix("字") == ["字1", "字3", "字4"]
    assert list(grams.lengths) == [1, 0, 2, 2, 2, 1]
    assert merged.field("title").documents("都")[0] == [5]


def test_merging_no_live_documents_adds_nothing(tmp_path: Path) -> None:
    source = build(tmp_path, [({"body": [("好", 0)]}, {"好": [0]})])
    empty = build(tmp_path, [])
    writer = PostingsWriter(TEXT_FIELDS)
    writer.add_segment(source, [])
    writer.add_segment(empty, [])
    assert writer.doc_count == 0
    check_against_model(write(tmp_path, writer), Model([]))


# -- not a postings file --


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a postings file at all\n",
        b"searchkit-postings 1\n" + b"\0" * 64,  # another version of the format
        b"searchkit-postings 2\n" + b"\0" * 64,  # the one before this, whose grams had no positions
        b"\0" * 4096,
        MAGIC,  # the magic line and nothing after it
    ],
    ids=["empty", "text", "old-version", "previous-version", "zeros", "magic-only"],
)
def test_a_file_that_is_not_a_postings_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "segment.skp"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        SegmentPostings(path)
