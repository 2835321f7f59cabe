"""Score fusion of ranked lists. Pure functions; every score is higher-is-better.

``fuse`` is what the assistant's retriever uses: it merges the dense (cosine) and keyword
(BM25) candidate lists, each best first, into one ranking with two guarantees that no weight
can undo:

1. **Leaders keep a slot.** The first result of each side is in the fused top ``k`` (when
   ``k`` is at least the number of distinct leaders; with ``k=1`` and two leaders that
   disagree, the fused score picks). A chunk that BM25 ranks first is never
   buried below chunks that are merely on topic because the dense side missed it, nor the
   other way round.
2. **A clear winner goes first.** A side's first result that scores at least ``lead_ratio``
   times that side's runner-up (BM25 9.8 against 3.5 for a sentence that holds every word of
   the question; or the only chunk that matches at all) is ranked first. If both sides have
   a clear winner, the fused score orders the two. (A winner is a leader, so it keeps its
   slot by rule 1 as well.)

Everything else is ordered by the fused score: weighted reciprocal rank fusion
(``method="rrf"``) or a weighted sum of max-normalised scores (``method="convex"``). The
returned scores are the fused scores, raised where a guarantee moved an item up so that they
never increase down the list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["weighted_rrf", "convex_fusion", "clear_winner", "fuse"]

Ranked = Sequence[tuple[str, float]]


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


def clear_winner(ranked: Ranked, ratio: float) -> str | None:
    """The first item of ``ranked`` (best first) if it scores positive and at least ``ratio``
    times the runner-up (a runner-up at or below zero, or none, always counts as beaten)."""
    if not ranked or math.isinf(ratio):
        return None
    first = ranked[0][1]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if first > 0 and first >= ratio * max(second, 0.0):
        return ranked[0][0]
    return None


def _check(name: str, ranked: Ranked) -> None:
    for (a, x), (b, y) in zip(ranked, ranked[1:]):
        if y > x:
            raise ValueError(f"{name} must be best first; {b!r} ({y}) follows {a!r} ({x})")


def fuse(
    dense: Ranked,
    keyword: Ranked,
    k: int,
    *,
    method: str,
    dense_weight: float,
    rrf_k: int,
    lead_ratio: float,
) -> list[tuple[str, float]]:
    """The ``k`` best ``(id, score)`` of two candidate lists (``(id, score)``, best first),
    with the guarantees in the module docstring. ``lead_ratio=inf`` turns off guarantee 2."""
    if k < 1:
        raise ValueError(f"k must be greater than 0. Currently, k is {k}")
    if method not in ("rrf", "convex"):
        raise ValueError(f"method must be 'rrf' or 'convex'. Currently, method is {method!r}")
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError(f"dense_weight must be between 0 and 1. Currently, it is {dense_weight}")
    if not lead_ratio >= 1.0:
        raise ValueError(f"lead_ratio must be at least 1. Currently, it is {lead_ratio}")
    _check("dense", dense)
    _check("keyword", keyword)
    weights = [dense_weight, 1.0 - dense_weight]
    if method == "rrf":
        scores = weighted_rrf([[i for i, _ in dense], [i for i, _ in keyword]], weights, rrf_k)
    else:
        scores = convex_fusion([dict(dense), dict(keyword)], weights)
    order = sorted(scores, key=lambda i: (-scores[i], i))
    position = {item: n for n, item in enumerate(order)}

    leaders = list(dict.fromkeys(ranked[0][0] for ranked in (dense, keyword) if ranked))
    winners = {w for w in (clear_winner(dense, lead_ratio), clear_winner(keyword, lead_ratio)) if w is not None}
    top = sorted(order, key=lambda i: (i not in winners, position[i]))[:k]
    if k >= len(leaders):
        # each leader missing from the top takes the last slot that holds no leader
        for leader in [i for i in leaders if i not in top]:
            j = max(n for n, item in enumerate(top) if item not in leaders)
            top[j] = leader
        top.sort(key=lambda i: (i not in winners, position[i]))
    out: list[tuple[str, float]] = []
    floor = -math.inf
    for item in reversed(top):
        floor = max(scores[item], floor)
        out.append((item, floor))
    return out[::-1]
