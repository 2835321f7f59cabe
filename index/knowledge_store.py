"""The knowledge records of one generation: the ``<name>.k<N>`` collection that holds each
article's key points and named things (``index/knowledge.py`` makes them), read and written
with vectors our embedder computed. Scores are cosine similarities (higher is better)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from index.records import pages

__all__ = ["KnowledgeRecords"]

Reader = Callable[..., Any]  # the store's error-translating call: ``safe(fn, *args, **kwargs)``


@dataclass(frozen=True)
class KnowledgeRecords:
    """One generation's knowledge collection; ``batch()`` rows per write (the client's limit)."""

    collection: Any
    safe: Reader
    batch: Callable[[], int] = lambda: 1000

    def add(self, ids: Sequence[str], documents: Sequence[str], metadatas: Sequence[dict[str, Any]], embeddings: Sequence[Sequence[float]]) -> None:
        if not (len(ids) == len(documents) == len(metadatas) == len(embeddings)):
            raise ValueError(f"{len(ids)} ids, {len(documents)} documents, {len(metadatas)} metadatas, {len(embeddings)} embeddings")
        limit = self.batch()
        for i in range(0, len(ids), limit):
            self.collection.upsert(
                ids=list(ids[i : i + limit]),
                documents=list(documents[i : i + limit]),
                metadatas=list(metadatas[i : i + limit]),
                embeddings=[list(map(float, e)) for e in embeddings[i : i + limit]],
            )

    def pages(self, include: list[str], where: dict[str, Any] | None = None) -> Iterable[dict[str, Any]]:
        return pages(lambda **kw: self.safe(self.collection.get, **kw), include, where)

    def copy_from(self, other: KnowledgeRecords, sources: dict[str, str], tick: Callable[[], None] | None = None) -> int:
        """Copy ``other``'s records of ``sources`` (source -> article hash: only records of that
        very version) into this collection; no re-embedding."""
        copied = 0
        for res in other.pages(["metadatas", "documents", "embeddings"]):
            if tick is not None:
                tick()
            metas = list(res["metadatas"])
            keep = [j for j, m in enumerate(metas) if sources.get(str((m or {}).get("source", ""))) == (m or {}).get("article_hash")]
            if keep:
                self.add(
                    [res["ids"][j] for j in keep],
                    [res["documents"][j] or "" for j in keep],
                    [metas[j] or {} for j in keep],
                    [res["embeddings"][j] for j in keep],
                )
            copied += len(keep)
        return copied

    def records(self, where: dict[str, Any] | None = None, vectors: bool = False) -> list[tuple[str, str, dict[str, Any], Any]]:
        """``(id, document, metadata, vector or None)`` of the records matching ``where``."""
        include = ["metadatas", "documents"] + (["embeddings"] if vectors else [])
        out = []
        for res in self.pages(include, where):
            vecs = res.get("embeddings") if vectors else None
            for j, rid in enumerate(res["ids"]):
                out.append((rid, res["documents"][j] or "", res["metadatas"][j] or {}, None if vecs is None else vecs[j]))
        return out

    def hashes(self) -> dict[str, str]:
        """``source -> article hash`` of every article with knowledge here."""
        return {str(meta.get("source", "")): str(meta.get("article_hash", "")) for _, _, meta, _ in self.records(where={"kind": "article"})}

    def nearest(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None) -> list[tuple[str, str, dict[str, Any], float, Any]]:
        """The ``n`` records nearest ``embedding``: ``(id, document, metadata, cosine, vector)``."""
        if n <= 0:
            return []
        res = self.safe(
            self.collection.query,
            query_embeddings=[list(map(float, embedding))],
            n_results=n,
            where=where or None,
            include=["metadatas", "documents", "distances", "embeddings"],
        )
        return [
            (rid, doc or "", meta or {}, 1.0 - float(dist), vec)
            for rid, doc, meta, dist, vec in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], res["embeddings"][0])
        ]
