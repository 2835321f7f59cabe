import pytest

from assistant.fusion import convex_fusion, weighted_rrf


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
