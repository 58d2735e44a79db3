"""Score vectors (arrays.py) against the dicts of document → score they replaced:
the same documents and the same sums, to the last bit, in any combination."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from searchkit.arrays import Scores, coordination, intersection, union

SIZE = 12
Dict = dict[int, float]

scores_dicts = st.dictionaries(
    st.integers(0, SIZE - 1),
    st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=50.0, allow_nan=False)),
    max_size=SIZE,
)


def vector_of(scores: Dict) -> Scores:
    return Scores.of(SIZE, list(scores), [scores[d] for d in scores]) if scores else Scores.none(SIZE)


def as_dict(scores: Scores) -> Dict:
    return dict(scores.items())


def dict_union(parts: list[Dict]) -> Dict:
    ordered = sorted(parts, key=len, reverse=True)
    total = dict(ordered[0]) if ordered else {}
    for part in ordered[1:]:
        for docnum, score in part.items():
            total[docnum] = total.get(docnum, 0.0) + score
    return total


def dict_intersection(parts: list[Dict]) -> Dict:
    ordered = sorted(parts, key=len)
    if not ordered:
        return {}
    common = set(ordered[0]).intersection(*ordered[1:])
    result = {docnum: ordered[0][docnum] for docnum in common}
    for part in ordered[1:]:
        result = {docnum: score + part[docnum] for docnum, score in result.items()}
    return result


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(scores_dicts, max_size=5), bonuses=scores_dicts, weight=st.floats(0.1, 3.0))
def test_vectors_sum_as_the_dicts_did(parts: list[Dict], bonuses: Dict, weight: float) -> None:
    vectors = [vector_of(part) for part in parts]
    assert as_dict(union(vectors, SIZE)) == dict_union(parts)
    assert as_dict(intersection(vectors, SIZE)) == dict_intersection(parts)

    total, expected = union(vectors, SIZE), dict_union(parts)
    total.add(vector_of(bonuses), weight)
    for docnum, score in bonuses.items():
        expected[docnum] = expected.get(docnum, 0.0) + score * weight
    assert as_dict(total) == expected

    total.lift(vector_of(bonuses))
    for docnum in expected.keys() & bonuses.keys():
        expected[docnum] += bonuses[docnum]
    assert as_dict(total) == expected
    assert len(total) == len(expected) and all(docnum in total for docnum in expected)
    if expected:
        third_best = sorted(expected.values())[-3:][0]
        assert sorted(total.best(3)) == sorted(d for d, s in expected.items() if s >= third_best)
    if not parts:
        return
    scaled, complete = coordination(total, vectors, 0.5)
    matched = {docnum: sum(docnum in part for part in parts) for docnum in expected}
    assert as_dict(scaled) == {d: s * (matched[d] / len(parts)) ** 0.5 for d, s in expected.items()}
    assert complete == all(matched[d] == len(parts) for d in expected)


def test_a_document_can_match_with_a_score_of_zero() -> None:
    scores = Scores.of(SIZE, [3, 5])
    assert len(scores) == 2 and 3 in scores and scores[3] == 0.0 and 4 not in scores
    assert scores.get(4, -1.0) == -1.0
    scores.remove(Scores.of(SIZE, [3]).matched)
    assert list(scores) == [5] and as_dict(scores) == {5: 0.0}
    assert not Scores.none(SIZE) and Scores.none(SIZE).highest() == 0.0
