import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.fusion import clear_winner, convex_fusion, fuse, weighted_rrf


def test_weighted_rrf_equal_weights_rewards_agreement():
    fused = weighted_rrf([["a", "b", "c"], ["b", "a", "d"]], [0.5, 0.5], k=60)
    assert fused["a"] == pytest.approx(fused["b"])
    assert fused["a"] > fused["c"] and fused["a"] > fused["d"]


def test_weighted_rrf_weight_decides_between_lists():
    fused = weighted_rrf([["dense1", "y"], ["kw1", "z"]], [0.8, 0.2], k=10)
    assert max(fused, key=fused.get) == "dense1"
    fused = weighted_rrf([["dense1", "y"], ["kw1", "z"]], [0.2, 0.8], k=10)
    assert max(fused, key=fused.get) == "kw1"


def test_weighted_rrf_mismatched_weights_raise():
    with pytest.raises(ValueError, match="2 rankings but 1 weights"):
        weighted_rrf([["a"], ["b"]], [1.0])


def test_convex_fusion_normalises_each_list_by_its_max():
    fused = convex_fusion([{"a": 0.5, "b": 0.25}, {"b": 20.0, "c": 10.0}], [0.5, 0.5])
    assert fused == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.25})


def test_convex_fusion_empty_list_contributes_nothing():
    assert convex_fusion([{}, {"a": 2.0}], [0.9, 0.1]) == pytest.approx({"a": 0.1})


# -- fuse: the guarantees ----------------------------------------------------------------------
RRF = {"method": "rrf", "dense_weight": 0.5, "rrf_k": 60, "lead_ratio": 2.0}


def _ranked(ids: list[str], scores: list[float]) -> list[tuple[str, float]]:
    return list(zip(ids, sorted(scores, reverse=True)))


@st.composite
def candidate_lists(draw):
    """Two best-first candidate lists over a shared pool of ids (overlapping or not)."""
    pool = [f"c{i}" for i in range(draw(st.integers(1, 25)))]
    lists = []
    for _ in range(2):
        ids = draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool)))
        scores = draw(st.lists(st.floats(-1.0, 50.0, allow_nan=False), min_size=len(ids), max_size=len(ids)))
        lists.append(_ranked(ids, scores))
    return lists[0], lists[1]


params = st.fixed_dictionaries({
    "method": st.sampled_from(["rrf", "convex"]),
    "dense_weight": st.floats(0.0, 1.0),
    "rrf_k": st.integers(0, 100),
    "lead_ratio": st.one_of(st.floats(1.0, 10.0), st.just(math.inf)),
})


@settings(max_examples=300, deadline=None)
@given(candidate_lists(), st.integers(2, 8), params)
def test_fuse_keeps_each_sides_first_result_whatever_the_weights(lists, k, p):
    dense, keyword = lists
    ids = [i for i, _ in fuse(dense, keyword, k, **p)]
    for side in (dense, keyword):
        if side:
            assert side[0][0] in ids


@settings(max_examples=300, deadline=None)
@given(candidate_lists(), st.integers(1, 8), params)
def test_fuse_returns_distinct_candidates_with_non_increasing_scores(lists, k, p):
    dense, keyword = lists
    out = fuse(dense, keyword, k, **p)
    ids = [i for i, _ in out]
    union = {i for i, _ in dense} | {i for i, _ in keyword}
    assert len(ids) == len(set(ids)) == min(k, len(union))
    assert set(ids) <= union
    assert all(a >= b for (_, a), (_, b) in zip(out, out[1:]))


@settings(max_examples=300, deadline=None)
@given(candidate_lists(), st.integers(1, 8), params)
def test_fuse_puts_a_clear_winner_first(lists, k, p):
    dense, keyword = lists
    winners = {w for w in (clear_winner(dense, p["lead_ratio"]), clear_winner(keyword, p["lead_ratio"])) if w}
    out = fuse(dense, keyword, k, **p)
    if winners:
        assert out[0][0] in winners
        if len(winners) == 2 and k >= 2:
            assert {i for i, _ in out[:2]} == winners


@settings(max_examples=300, deadline=None)
@given(candidate_lists(), st.integers(2, 8), st.floats(0.0, 1.0))
def test_fuse_is_plain_weighted_rrf_when_no_guarantee_is_needed(lists, k, w):
    dense, keyword = lists
    plain = weighted_rrf([[i for i, _ in dense], [i for i, _ in keyword]], [w, 1.0 - w], 60)
    top = sorted(plain, key=lambda i: (-plain[i], i))[:k]
    leaders = {side[0][0] for side in (dense, keyword) if side}
    out = fuse(dense, keyword, k, method="rrf", dense_weight=w, rrf_k=60, lead_ratio=math.inf)
    if leaders <= set(top):
        assert [(i, s) for i, s in out] == [(i, plain[i]) for i in top]


def test_fuse_keyword_first_result_the_dense_side_missed_survives_a_dense_weight():
    # the issue-11 case: BM25 ranks the fact first (9.8, runner-up 3.5); the dense side's 30
    # candidates do not include it, and five on-topic chunks are in both lists
    on_topic = [f"t{i}" for i in range(30)]
    dense = _ranked(on_topic, [0.58 - 0.005 * i for i in range(30)])
    keyword = [("fact", 9.8)] + _ranked(on_topic[:5] + [f"k{i}" for i in range(24)], [3.5 - 0.1 * i for i in range(29)])
    old = weighted_rrf([[i for i, _ in dense], [i for i, _ in keyword]], [0.7, 0.3], 60)
    assert "fact" not in sorted(old, key=lambda i: -old[i])[:5]  # what the old fusion did
    out = fuse(dense, keyword, 5, method="rrf", dense_weight=0.7, rrf_k=60, lead_ratio=2.0)
    assert out[0][0] == "fact"
    # no clear winner (3.5 is not twice 3.4): the fact still keeps a slot, the last one
    keyword[0] = ("fact", 3.6)
    out = fuse(dense, keyword, 5, method="rrf", dense_weight=0.7, rrf_k=60, lead_ratio=2.0)
    assert [i for i, _ in out][-1] == "fact" and out[0][0] == "t0"


def test_clear_winner_needs_the_ratio_over_the_runner_up():
    assert clear_winner([("a", 4.0), ("b", 2.0)], 2.0) == "a"
    assert clear_winner([("a", 3.9), ("b", 2.0)], 2.0) is None
    assert clear_winner([("a", 0.3)], 2.0) == "a"  # the only match
    assert clear_winner([("a", 0.2), ("b", -0.1)], 2.0) == "a"
    assert clear_winner([("a", 0.0), ("b", 0.0)], 2.0) is None
    assert clear_winner([("a", 9.0), ("b", 1.0)], math.inf) is None
    assert clear_winner([], 2.0) is None


def test_fuse_with_one_slot_and_two_leaders_lets_the_fused_score_pick():
    dense = [("d", 0.9), ("both", 0.85)]
    keyword = [("k", 5.0), ("both", 4.0)]
    out = fuse(dense, keyword, 1, method="rrf", dense_weight=0.5, rrf_k=60, lead_ratio=2.0)
    assert out == [("both", pytest.approx(0.5 / 62 + 0.5 / 62))]


def test_fuse_rejects_bad_arguments():
    with pytest.raises(ValueError, match="k must be greater than 0"):
        fuse([], [], 0, **RRF)
    with pytest.raises(ValueError, match="method must be"):
        fuse([], [], 5, **{**RRF, "method": "max"})
    with pytest.raises(ValueError, match="dense_weight must be between 0 and 1"):
        fuse([], [], 5, **{**RRF, "dense_weight": 1.5})
    with pytest.raises(ValueError, match="lead_ratio must be at least 1"):
        fuse([], [], 5, **{**RRF, "lead_ratio": 0.5})
    with pytest.raises(ValueError, match="keyword must be best first"):
        fuse([], [("a", 1.0), ("b", 2.0)], 5, **RRF)
    assert fuse([], [], 5, **RRF) == []
