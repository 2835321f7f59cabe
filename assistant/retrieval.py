"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, fused.

Fusion is weighted reciprocal rank fusion (``fusion="rrf"``) or a weighted sum of
max-normalised scores (``fusion="convex"``); the weight of the dense side is
``dense_weight``. Scores of the returned passages are the fused scores (higher is better);
``dense_score`` (cosine) and ``keyword_score`` (BM25) are kept for thresholds and display.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assistant.fusion import convex_fusion, weighted_rrf
from assistant.models import Passage
from corpus.models import Chunk
from index.embedding import Embedder
from index.keyword import KeywordIndex
from index.store import ChromaStore

__all__ = ["HybridRetriever"]


def _passage(chunk: Chunk, score: float, dense: float | None, keyword: float | None) -> Passage:
    return Passage(
        chunk_id=chunk.id,
        text=chunk.text,
        title=chunk.title,
        source=chunk.source,
        section=chunk.section,
        score=score,
        start=chunk.start,
        end=chunk.end,
        publisher=chunk.publisher,
        date=chunk.date,
        dense_score=dense,
        keyword_score=keyword,
    )


class HybridRetriever:
    def __init__(
        self,
        store: ChromaStore,
        keyword: KeywordIndex,
        embedder: Embedder,
        k: int = 5,
        candidates: int = 30,
        dense_weight: float = 0.5,
        fusion: str = "rrf",
        rrf_k: int = 60,
    ):
        if fusion not in ("rrf", "convex"):
            raise ValueError(f"fusion must be 'rrf' or 'convex'. Currently, fusion is {fusion!r}")
        self.store = store
        self.keyword = keyword
        self.embedder = embedder
        self.k = k
        self.candidates = candidates
        self.dense_weight = dense_weight
        self.fusion = fusion
        self.rrf_k = rrf_k

    def dense(self, query: str, n: int, sources: frozenset[str] | None = None, vector: Any = None) -> list[tuple[Chunk, float]]:
        if vector is None:
            vector = self.embedder.embed_query(query)
        where = None
        if sources is not None:
            where = {"source": {"$in": sorted(sources)}} if len(sources) != 1 else {"source": next(iter(sources))}
        hits = self.store.nearest(vector, n, where)
        # the keyword index holds every chunk of the same generation; the store fills any gap
        chunks = {cid: self.keyword.chunk(cid) for cid, _ in hits}
        missing = [cid for cid, chunk in chunks.items() if chunk is None]
        if missing:
            chunks.update({c.id: c for c in self.store.get(missing)})
        return [(chunks[cid], score) for cid, score in hits if chunks.get(cid) is not None]

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        sources: Iterable[str] | None = None,
        dense_weight: float | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``, optionally only from ``sources``."""
        k = self.k if k is None else k
        if k < 1:
            raise ValueError(f"k must be greater than 0. Currently, k is {k}")
        allowed = frozenset(sources) if sources is not None else None
        if allowed is not None and not allowed:
            return []
        n = max(self.candidates, k)
        dense = self.dense(query, n, allowed)
        keyword = self.keyword.search(query, n, allowed)
        w = self.dense_weight if dense_weight is None else dense_weight
        chunks: dict[str, Chunk] = {}
        dense_scores: dict[str, float] = {}
        keyword_scores: dict[str, float] = {}
        for chunk, score in dense:
            chunks[chunk.id] = chunk
            dense_scores[chunk.id] = score
        for chunk, score in keyword:
            chunks.setdefault(chunk.id, chunk)
            keyword_scores[chunk.id] = score
        if self.fusion == "rrf":
            fused = weighted_rrf([[c.id for c, _ in dense], [c.id for c, _ in keyword]], [w, 1.0 - w], self.rrf_k)
        else:
            fused = convex_fusion([dense_scores, keyword_scores], [w, 1.0 - w])
        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        return [_passage(chunks[c], fused[c], dense_scores.get(c), keyword_scores.get(c)) for c in ranked]
