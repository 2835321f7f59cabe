"""The Chroma store adapter: the only module that talks to Chroma.

Chroma never embeds anything itself: collections are created with ``embedding_function=None``
and every write and query carries vectors computed by our embedder. Distances are cosine;
from this adapter on, scores are similarities where **higher is better** (``1 - distance``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from corpus.errors import IndexStateError
from corpus.models import Chunk

__all__ = ["ChromaStore", "StoredArticle", "chunk_to_metadata", "metadata_to_chunk", "make_client"]

_PAGE = 5000


@dataclass(frozen=True)
class StoredArticle:
    """What the store holds of one article: its content hash and chunk ids."""

    source: str
    article_hash: str
    chunk_ids: tuple[str, ...]


def chunk_to_metadata(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": chunk.source,
        "title": chunk.title,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "index": chunk.index,
        "article_hash": chunk.article_hash,
    }
    if chunk.publisher:
        meta["publisher"] = chunk.publisher
    if chunk.date:
        meta["date"] = chunk.date
    return meta


def metadata_to_chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        section=str(meta.get("section", "")),
        text=text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        index=int(meta.get("index", 0)),
        publisher=meta.get("publisher") or None,
        date=meta.get("date") or None,
        article_hash=str(meta.get("article_hash", "")),
    )


def make_client(path: str | None = None, url: str | None = None, token: str | None = None) -> Any:
    """A Chroma client: a server when ``url`` is given, else embedded at ``path``."""
    from index.offline import ensure_offline

    ensure_offline()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise IndexStateError(f"Chroma URL {url!r} is not of the form http://HOST:PORT")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            return chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                headers=headers,
                settings=chroma_settings,
            )
        except Exception as exc:  # connection refused, bad auth, ...
            raise IndexStateError(f"cannot reach the Chroma server at {url}: {exc}") from None
    if path is None:
        raise IndexStateError("no Chroma path or URL configured")
    try:
        return chromadb.PersistentClient(path=path, settings=chroma_settings)
    except Exception as exc:
        raise IndexStateError(
            f"the index at {path} cannot be opened ({exc.__class__.__name__}: {exc}); "
            "run `assistant index --rebuild`"
        ) from None


class ChromaStore:
    """Chunks and their vectors in one Chroma collection (cosine space)."""

    def __init__(self, client: Any, collection_name: str = "articles", model_name: str = "", dimension: int | None = None):
        self.client = client
        self.collection_name = collection_name
        self.model_name = model_name
        self.dimension = dimension
        self._collection: Any = None

    # -- collection -------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        if self._collection is None:
            metadata: dict[str, Any] = {"model": self.model_name or "unknown"}
            if self.dimension:
                metadata["dimension"] = self.dimension
            try:
                self._collection = self.client.get_or_create_collection(
                    name=self.collection_name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata=metadata,
                )
            except Exception as exc:
                raise IndexStateError(
                    f"the Chroma collection {self.collection_name!r} cannot be opened "
                    f"({exc.__class__.__name__}: {exc}); run `assistant index --rebuild`"
                ) from None
            self._check_model()
        return self._collection

    def _check_model(self) -> None:
        meta = self._collection.metadata or {}
        stored = meta.get("model")
        if self.model_name and stored and stored != "unknown" and stored != self.model_name:
            raise IndexStateError(
                f"the index was built with the embedding model {stored!r}, not {self.model_name!r}; "
                "run `assistant index --rebuild`"
            )
        dim = meta.get("dimension")
        if self.dimension and dim and int(dim) != self.dimension:
            raise IndexStateError(
                f"the index holds {dim}-dimensional vectors but the model makes {self.dimension}; "
                "run `assistant index --rebuild`"
            )

    def reset(self) -> None:
        """Drop the collection and everything in it."""
        try:
            self.client.delete_collection(self.collection_name)
        except Exception:  # noqa: BLE001 - absent already
            pass
        self._collection = None

    def exists(self) -> bool:
        try:
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception as exc:
            raise IndexStateError(f"the index cannot be read ({exc}); run `assistant index --rebuild`") from None
        return self.collection_name in names

    def count(self) -> int:
        return int(self.collection.count())

    # -- writes -------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        if not chunks:
            return
        limit = self._max_batch()
        for i in range(0, len(chunks), limit):
            part = chunks[i : i + limit]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=[list(map(float, e)) for e in embeddings[i : i + limit]],
                documents=[c.text for c in part],
                metadatas=[chunk_to_metadata(c) for c in part],
            )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        limit = self._max_batch()
        for i in range(0, len(ids), limit):
            self.collection.delete(ids=ids[i : i + limit])

    def _max_batch(self) -> int:
        try:
            return max(1, min(int(self.client.get_max_batch_size()), 5000))
        except Exception:  # noqa: BLE001
            return 1000

    # -- reads --------------------------------------------------------------------------------
    def articles(self) -> dict[str, StoredArticle]:
        """Every article in the store with its hash and chunk ids (metadata only, paged)."""
        ids_by_source: dict[str, list[str]] = {}
        hash_by_source: dict[str, str] = {}
        for ids, metas, _ in self._pages(include=["metadatas"]):
            for cid, meta in zip(ids, metas):
                meta = meta or {}
                source = str(meta.get("source", ""))
                ids_by_source.setdefault(source, []).append(cid)
                h = str(meta.get("article_hash", ""))
                # two hashes for one source mean a half-finished write: mark it stale
                if hash_by_source.get(source, h) != h:
                    h = "mixed"
                hash_by_source[source] = h
        return {s: StoredArticle(s, hash_by_source[s], tuple(ids)) for s, ids in ids_by_source.items()}

    def all_chunks(self) -> list[Chunk]:
        out: list[Chunk] = []
        for ids, metas, docs in self._pages(include=["metadatas", "documents"]):
            out.extend(metadata_to_chunk(i, d or "", m or {}) for i, m, d in zip(ids, metas, docs))
        return out

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids:
            return []
        res = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {i: metadata_to_chunk(i, d or "", m or {}) for i, m, d in zip(res["ids"], res["metadatas"], res["documents"])}
        return [by_id[i] for i in ids if i in by_id]

    def _pages(self, include: list[str]) -> Iterable[tuple[list[str], list[Any], list[Any]]]:
        offset = 0
        while True:
            res = self.collection.get(include=include, limit=_PAGE, offset=offset)
            ids = res["ids"]
            if not ids:
                return
            metas = res.get("metadatas") or [None] * len(ids)
            docs = res.get("documents") or [None] * len(ids)
            yield ids, metas, docs
            if len(ids) < _PAGE:
                return
            offset += len(ids)

    def query(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """The ``n`` nearest chunks with cosine similarity (higher is better)."""
        total = self.count()
        if total == 0 or n <= 0:
            return []
        res = self.collection.query(
            query_embeddings=[list(map(float, embedding))],
            n_results=min(n, total),
            where=where or None,
            include=["metadatas", "documents", "distances"],
        )
        ids, metas, docs, dists = res["ids"][0], res["metadatas"][0], res["documents"][0], res["distances"][0]
        return [(metadata_to_chunk(i, d or "", m or {}), 1.0 - float(dist)) for i, m, d, dist in zip(ids, metas, docs, dists)]
