"""Score fusion of ranked lists. Pure functions; every score is higher-is-better."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["weighted_rrf", "convex_fusion"]


def weighted_rrf(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60) -> dict[str, float]:
    """Weighted reciprocal rank fusion: ``sum_i w_i / (k + rank_i)`` (rank from 1)."""
    if len(rankings) != len(weights):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    if k < 0:
        raise ValueError(f"k must be non-negative. Currently, k is {k}")
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def convex_fusion(score_lists: Sequence[dict[str, float]], weights: Sequence[float]) -> dict[str, float]:
    """Weighted sum of max-normalised scores; an item missing from a list scores 0 there."""
    if len(score_lists) != len(weights):
        raise ValueError(f"{len(score_lists)} score lists but {len(weights)} weights")
    fused: dict[str, float] = {}
    for scores, weight in zip(score_lists, weights):
        if not scores:
            continue
        top = max(scores.values())
        if top <= 0:
            continue
        for item, score in scores.items():
            fused[item] = fused.get(item, 0.0) + weight * max(score, 0.0) / top
    for scores in score_lists:
        for item in scores:
            fused.setdefault(item, 0.0)
    return fused
