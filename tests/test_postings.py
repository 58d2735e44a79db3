"""The postings file format (postings.py): what PostingsWriter writes, SegmentPostings
reads back, checked against a plain-Python model built from the same documents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchkit.postings as postings_module
from searchkit.postings import (
    BLOCK_VALUES,
    FIXED_WIDTH,
    GRAMS_FIELD,
    MAGIC,
    FixedWidthTerms,
    PostingsWriter,
    SegmentPostings,
)

TEXT_FIELDS = ("title", "body")
FIELDS = (*TEXT_FIELDS, GRAMS_FIELD)

# a document: per text field its (term, position) tokens, and its set of grams
Document = tuple[dict[str, list[tuple[str, int]]], set[str]]
Row = tuple[str, list[int], list[int] | None, list[int] | None]
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
        # field -> term -> document number -> sorted positions ([] for the grams)
        self.postings: dict[str, dict[str, dict[int, list[int]]]] = {name: {} for name in FIELDS}
        self.lengths: dict[str, list[int]] = {name: [] for name in FIELDS}
        for docnum, (tokens, grams) in enumerate(documents):
            for name in TEXT_FIELDS:
                field_tokens = tokens.get(name, [])
                self.lengths[name].append(len(field_tokens))
                for term, position in field_tokens:
                    self.postings[name].setdefault(term, {}).setdefault(docnum, []).append(position)
            self.lengths[GRAMS_FIELD].append(len(grams))
            for gram in grams:
                self.postings[GRAMS_FIELD].setdefault(gram, {})[docnum] = []
        for table in self.postings.values():
            for by_document in table.values():
                for positions in by_document.values():
                    positions.sort()

    def row(self, name: str, term: str) -> Row:
        """The term as `iter_all` gives it: position deltas restart at each document."""
        by_document = self.postings[name][term]
        documents = sorted(by_document)
        if name == GRAMS_FIELD:
            return term, documents, None, None
        deltas: list[int] = []
        for docnum in documents:
            positions = by_document[docnum]
            deltas.extend(b - a for a, b in zip([0, *positions], positions, strict=False))
        return term, documents, [len(by_document[d]) for d in documents], deltas


def check_against_model(postings: SegmentPostings, model: Model) -> None:
    assert postings.doc_count == model.doc_count
    for name in FIELDS:
        positional = name != GRAMS_FIELD
        table = postings.field(name)
        expected = model.postings[name]
        terms = sorted(expected)
        assert table.positional is positional
        assert len(table.terms) == len(terms)
        assert list(table.terms) == terms
        assert list(table.lengths) == model.lengths[name]
        assert table.total_length == sum(model.lengths[name])
        everyone = set(range(model.doc_count))
        for term in terms:
            by_document = expected[term]
            documents, frequencies = table.documents(term)
            assert documents == sorted(by_document)
            assert table.doc_frequency(term) == len(by_document)
            if positional:
                assert frequencies is not None
                assert list(frequencies) == [len(by_document[d]) for d in documents]
                assert table.positions(term, everyone) == by_document
                some = set(documents[::2]) | {model.doc_count + 7}  # one the term is not in
                assert table.positions(term, some) == {d: by_document[d] for d in documents[::2]}
                assert table.positions(term, set()) == {}
            else:
                assert frequencies is None
                assert table.positions(term, everyone) == {}
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
    grams = postings.field(GRAMS_FIELD).terms
    fixed = all(len(gram) <= FIXED_WIDTH for gram in model.postings[GRAMS_FIELD])
    assert isinstance(grams, FixedWidthTerms) is fixed  # else "\n"-separated, as the text fields
    for name in TEXT_FIELDS:
        assert not isinstance(postings.field(name).terms, FixedWidthTerms)


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
SHORT_GRAMS = st.text(alphabet=HAN + "𠀀", min_size=1, max_size=FIXED_WIDTH)
LONG_GRAMS = st.text(alphabet=HAN, min_size=FIXED_WIDTH + 1, max_size=4)
# mostly small positions (so a term repeats at one position), sometimes anything a uint32 holds
POSITIONS = st.one_of(st.integers(0, 20), st.integers(0, 2**32 - 1))


@st.composite
def vocabularies(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    words = draw(st.lists(TERMS, min_size=1, max_size=10, unique=True))
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
            if field_tokens or draw(st.booleans()):  # an empty field is given as [] or left out
                tokens[name] = field_tokens
        documents.append((tokens, draw(st.sets(st.sampled_from(grams), max_size=6))))
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


def test_hand_made_segment(tmp_path: Path) -> None:
    documents: list[Document] = [
        (
            {"title": [("好莱坞", 0), ("罢工", 1)], "body": [("罢工", 3), ("罢工", 3), ("罢工", 1), ("c++", 2)]},
            {"罢工", "好"},
        ),
        ({}, set()),  # an empty document
        ({"body": [("罢工", 0)]}, {"罢工", "工"}),
        ({"title": [], "body": []}, set()),
        ({"title": [("𠀀", 5)]}, {"𠀀"}),
    ]
    postings = build(tmp_path, documents)
    check_against_model(postings, Model(documents))
    body = postings.field("body")
    documents_of, frequencies = body.documents("罢工")
    assert documents_of == [0, 2] and frequencies is not None and list(frequencies) == [3, 1]
    assert body.positions("罢工", {0, 1, 2}) == {0: [1, 3, 3], 2: [0]}  # a repeated position stays twice
    assert list(body.lengths) == [4, 0, 1, 0, 0]
    assert body.total_length == 5
    assert postings.field("title").with_prefix("好") == ["好莱坞"]
    grams = postings.field(GRAMS_FIELD)
    assert list(grams.terms) == ["好", "工", "罢工", "𠀀"]
    assert grams.documents("罢工") == ([0, 2], None)
    assert list(grams.lengths) == [2, 0, 2, 0, 1]
    assert grams.with_prefix("罢") == ["罢工"]
    assert isinstance(grams.terms, FixedWidthTerms)


def test_longer_grams_switch_to_the_separated_layout(tmp_path: Path) -> None:
    documents: list[Document] = [({}, {"好", "好莱坞", "罢工"}), ({}, {"好莱", "好莱坞编剧"})]
    postings = build(tmp_path, documents)
    check_against_model(postings, Model(documents))
    grams = postings.field(GRAMS_FIELD)
    assert not isinstance(grams.terms, FixedWidthTerms)
    assert grams.with_prefix("好莱") == ["好莱", "好莱坞", "好莱坞编剧"]
    assert grams.documents("好莱坞编剧") == ([1], None)


def test_a_segment_without_documents(tmp_path: Path) -> None:
    postings = build(tmp_path, [])
    check_against_model(postings, Model([]))
    for name in FIELDS:
        table = postings.field(name)
        assert len(table.terms) == 0 and list(table.lengths) == [] and table.total_length == 0
        assert table.with_prefix("") == [] and list(table.iter_all()) == []
        assert table.documents("好") == ([], None) and table.doc_frequency("好") == 0


def test_documents_without_any_term(tmp_path: Path) -> None:
    documents: list[Document] = [({}, set()), ({"title": [], "body": []}, set()), ({}, set())]
    postings = build(tmp_path, documents)
    check_against_model(postings, Model(documents))
    assert postings.doc_count == 3
    assert list(postings.field("body").lengths) == [0, 0, 0]


# -- lists longer than a compressed block --


def test_huge_posting_lists_and_many_blocks(tmp_path: Path) -> None:
    count = 100_000
    writer = PostingsWriter(TEXT_FIELDS)
    for docnum in range(count):
        body = [("的", 7), ("的", 0)]
        if docnum % 1000 == 0:
            body.append(("稀", docnum % 5))
        grams = {"的"} | ({"稀有"} if docnum % 3 == 0 else set())
        writer.add_document({"title": [(f"w{docnum}", docnum)], "body": body}, grams)
    postings = write(tmp_path, writer)
    assert postings.doc_count == count

    body = postings.field("body")
    assert 4 * count > BLOCK_VALUES  # 的: documents, frequencies and two positions each, in one block
    documents, frequencies = body.documents("的")
    assert documents == list(range(count))
    assert frequencies is not None and set(frequencies) == {2} and len(frequencies) == count
    assert body.doc_frequency("的") == count
    assert body.positions("的", {0, 49_999, count - 1, count}) == {0: [0, 7], 49_999: [0, 7], count - 1: [0, 7]}
    assert body.documents("稀")[0] == list(range(0, count, 1000))
    assert body.positions("稀", {5000, 7000}) == {5000: [0], 7000: [0]}
    assert body.total_length == 2 * count + count // 1000
    assert list(body.terms) == ["的", "稀"]

    grams = postings.field(GRAMS_FIELD)
    assert grams.documents("的") == (list(range(count)), None)
    assert grams.documents("稀有") == (list(range(0, count, 3)), None)
    assert grams.doc_frequency("稀有") == len(range(0, count, 3))
    assert grams.total_length == count + len(range(0, count, 3))

    # 100,000 terms of three values each fill many blocks; every one reads back
    title = postings.field("title")
    assert len(title.block_offsets) - 1 > 3 * count // BLOCK_VALUES
    assert len(title.terms) == count
    seen = 0
    for term, documents, frequencies, deltas in title.iter_all():
        docnum = int(term[1:])
        assert documents == [docnum] and frequencies is not None and deltas is not None
        assert list(frequencies) == [1] and list(deltas) == [docnum]
        seen += 1
    assert seen == count
    for first in title.block_first[1:]:  # the terms on either side of each block boundary
        for term in (title.terms[first - 1], title.terms[first]):
            docnum = int(term[1:])
            assert title.documents(term)[0] == [docnum]
            assert title.positions(term, {docnum}) == {docnum: [docnum]}
    assert title.with_prefix("w9999") == ["w9999", *(f"w9999{i}" for i in range(10))]
    assert title.documents(f"w{count}") == ([], None)
    assert title.total_length == count


def test_merging_a_huge_segment_keeps_every_other_document(tmp_path: Path) -> None:
    count = 100_000
    writer = PostingsWriter(TEXT_FIELDS)
    for docnum in range(count):
        writer.add_document({"body": [("的", 0), ("的", docnum % 7 + 1)]}, {"的"})
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
    assert merged.field(GRAMS_FIELD).documents("的") == (list(range(count // 2)), None)
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
        patch.setattr(postings_module, "BLOCK_VALUES", 3)
        check_merge(tmp_path, case)


def test_merging_renumbers_after_the_documents_already_there(tmp_path: Path) -> None:
    source_documents: list[Document] = [({"body": [(f"词{i}", i), ("都", 0)]}, {f"字{i}", "都"}) for i in range(5)]
    source = build(tmp_path, source_documents)
    writer = PostingsWriter(TEXT_FIELDS)
    writer.add_document({"body": [("都", 9)]}, {"都"})
    writer.add_document({}, set())
    writer.add_segment(source, [1, 3, 4])  # 1 -> 2, 3 -> 3, 4 -> 4; 0 and 2 are dropped
    assert writer.doc_count == 5
    writer.add_document({"title": [("都", 1)]}, {"都"})
    merged = write(tmp_path, writer)
    body = merged.field("body")
    assert body.documents("词1")[0] == [2]
    assert body.documents("词3")[0] == [3]
    assert body.documents("词4")[0] == [4]
    assert body.documents("词0") == ([], None) and body.documents("词2") == ([], None)
    assert "词0" not in list(body.terms)
    assert body.positions("都", {0, 2, 3, 4}) == {0: [9], 2: [0], 3: [0], 4: [0]}
    assert list(body.lengths) == [1, 0, 2, 2, 2, 0]
    assert merged.field(GRAMS_FIELD).documents("都") == ([0, 2, 3, 4, 5], None)
    assert merged.field(GRAMS_FIELD).with_prefix("字") == ["字1", "字3", "字4"]
    assert merged.field("title").documents("都")[0] == [5]


def test_merging_no_live_documents_adds_nothing(tmp_path: Path) -> None:
    source = build(tmp_path, [({"body": [("好", 0)]}, {"好"})])
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
        b"\0" * 4096,
        MAGIC,  # the magic line and nothing after it
    ],
    ids=["empty", "text", "old-version", "zeros", "magic-only"],
)
def test_a_file_that_is_not_a_postings_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "segment.skp"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        SegmentPostings(path)
