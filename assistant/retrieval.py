"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, fused by ``fusion.fuse``.

Fusion is weighted reciprocal rank fusion (``fusion="rrf"``) or a weighted sum of
max-normalised scores (``fusion="convex"``); the weight of the dense side is
``dense_weight``. Whatever the weights, the first result of each side keeps a place among
the ``k`` returned, and a side's clear winner (``lead_ratio`` times its runner-up) comes first
(see ``assistant/fusion.py``). Scores of the returned passages are the fused scores (higher
is better); ``dense_score`` (cosine) and ``keyword_score`` (BM25) are kept for thresholds and
display. Every default comes from ``Settings``.

Before fusion, a paper's reference list leaves both candidate lists unless the question is about
references (it matches cited titles word for word, not what the work found), and the best keyword
candidate that holds a hyphenated name of the question whole ("Self-RAG") leads the keyword list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from assistant.fusion import fuse
from assistant.models import Passage
from assistant.settings import Settings
from corpus.models import Chunk
from corpus.text import reads_as_references
from index.embedding import Embedder
from index.keyword import KeywordIndex
from index.store import ChromaStore

__all__ = ["HybridRetriever", "Candidates"]

Candidates = tuple[list[tuple[Chunk, float]], list[tuple[Chunk, float]]]
_ABOUT_REFERENCES = re.compile(r"\b(?:references?|cites?|cited|citations?|bibliograph\w*|published|publications?|venue|journal|proceedings|arxiv)\b", re.I)


def _default(name: str) -> Any:
    """The default of a ``Settings`` field: the one place each default lives."""
    return next(f.default for f in fields(Settings) if f.name == name)


def passage_of(chunk: Chunk, score: float = 0.0, dense: float | None = None, keyword: float | None = None) -> Passage:
    """A chunk as a ``Passage`` (``score``: the fused relevance)."""
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
        url=chunk.url,
        dense_score=dense,
        keyword_score=keyword,
    )


_COMPOUND_NAME = re.compile(r"\b\w*[A-Z0-9]\w*(?:-\w+)+\b|\b\w+(?:-\w+)*-\w*[A-Z0-9]\w*\b")  # "Self-RAG", "GPT-4", not "real-time"


def _whole_names_first(query: str, keyword: list[tuple[Chunk, float]]) -> list[tuple[Chunk, float]]:
    """The keyword candidates with the best one that holds a hyphenated name of the query whole
    ("Self-RAG") first: BM25 sees only its parts ("self", "rag"), which a survey of RAG holds
    everywhere; first, it keeps a place in the fused results (``fusion.fuse``'s rule 1)."""
    names = [m.lower() for m in _COMPOUND_NAME.findall(query)]
    whole = next((hit for hit in keyword if any(name in hit[0].text.lower() for name in names)), None) if names else None
    if whole is None or whole is keyword[0]:
        return keyword
    return [(whole[0], keyword[0][1])] + [hit for hit in keyword if hit is not whole]  # level with the leader: first, not a clear winner


class HybridRetriever:
    """Arguments left at None take their ``Settings`` defaults."""

    def __init__(
        self,
        store: ChromaStore,
        keyword: KeywordIndex,
        embedder: Embedder,
        k: int | None = None,
        candidates: int | None = None,
        dense_weight: float | None = None,
        fusion: str | None = None,
        rrf_k: int | None = None,
        lead_ratio: float | None = None,
    ):
        self.store = store
        self.keyword = keyword
        self.embedder = embedder
        self.k: int = _default("k") if k is None else k
        self.candidates: int = _default("candidates") if candidates is None else candidates
        self.dense_weight: float = _default("dense_weight") if dense_weight is None else dense_weight
        self.fusion: str = _default("fusion") if fusion is None else fusion
        self.rrf_k: int = _default("rrf_k") if rrf_k is None else rrf_k
        self.lead_ratio: float = _default("lead_ratio") if lead_ratio is None else lead_ratio
        if self.fusion not in ("rrf", "convex"):
            raise ValueError(f"fusion must be 'rrf' or 'convex'. Currently, fusion is {self.fusion!r}")

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

    def candidates_for(self, query: str, n: int | None = None, sources: Iterable[str] | None = None) -> Candidates:
        """The dense and the keyword candidates (``n`` each, best first) that ``retrieve`` fuses."""
        n = self.candidates if n is None else n
        allowed = frozenset(sources) if sources is not None else None
        if allowed is not None and not allowed:
            return [], []
        dense, keyword = self.dense(query, n, allowed), self.keyword.search(query, n, allowed)
        if not _ABOUT_REFERENCES.search(query):
            # a paper's reference list matches a question on the names it cites, not on what they found
            prose = [(c, s) for c, s in dense if not reads_as_references(c.text)], [(c, s) for c, s in keyword if not reads_as_references(c.text)]
            dense, keyword = prose if prose[0] or prose[1] else (dense, keyword)
        return dense, _whole_names_first(query, keyword)

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
        dense, keyword = self.candidates_for(query, max(self.candidates, k), sources)
        return self.fuse(dense, keyword, k, dense_weight)

    def fuse(
        self, dense: list[tuple[Chunk, float]], keyword: list[tuple[Chunk, float]], k: int, dense_weight: float | None = None
    ) -> list[Passage]:
        """Passages of the fused ranking of the two candidate lists (see ``fusion.fuse``)."""
        chunks = {c.id: c for c, _ in keyword} | {c.id: c for c, _ in dense}
        dense_scores = {c.id: s for c, s in dense}
        keyword_scores = {c.id: s for c, s in keyword}
        ranked = fuse(
            [(c.id, s) for c, s in dense],
            [(c.id, s) for c, s in keyword],
            k,
            method=self.fusion,
            dense_weight=self.dense_weight if dense_weight is None else dense_weight,
            rrf_k=self.rrf_k,
            lead_ratio=self.lead_ratio,
        )
        return [passage_of(chunks[c], score, dense_scores.get(c), keyword_scores.get(c)) for c, score in ranked]
