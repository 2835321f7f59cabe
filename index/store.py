"""The Chroma store adapter: chunks and their vectors, read and written behind ``ChromaStore``.

Chroma never embeds anything itself: collections are created with ``embedding_function=None``
and every write and query carries vectors computed by our embedder. Distances are cosine;
from this adapter on, scores are similarities where **higher is better** (``1 - distance``).

A store reads one committed generation (its chunks and, in ``<name>.k<N>``, its article
knowledge: a reader never mixes two generations) and, as a writer (``begin_generation``), fills
the next one, which ``commit`` makes current with one manifest write. At commit a writer re-reads
the lease and the manifest: if another writer committed since it began (or took the lease over)
it refuses with ``IndexStateError`` and drops its own generation; the other commit stands.

Its rooms, one job each: ``index/client.py`` (client, TLS, auth), ``index/records.py`` (the
chunk <-> metadata codec, paged reads), ``index/generations.py`` (generation collections, the
manifest), ``index/locking.py`` (the file lock, the writer lease and the window they leave open),
``index/knowledge_store.py`` (a generation's knowledge records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from corpus.errors import IndexStateError
from corpus.models import Chunk
from index.client import REBUILD, first_line, unreadable
from index.generations import COSINE, Generations, manifest_entry, moved_error
from index.knowledge_store import KnowledgeRecords
from index.locking import WriterLease
from index.records import StoredArticle, chunk_to_metadata, metadata_to_chunk, pages

__all__ = ["ChromaStore"]


class ChromaStore:
    """Chunks and their vectors in one Chroma collection (cosine space)."""

    def __init__(self, client: Any, collection_name: str = "articles", model_name: str = "", dimension: int | None = None):
        self.client = client
        self.collection_name = collection_name
        self.model_name = model_name
        self.dimension = dimension
        self.generations = Generations(client, collection_name)
        self._collection: Any = None
        self._generation = 0
        self._stored_dimension: int | None = None
        self._base = 0  # for a writer (``begin_generation``): the generation it started from
        self._knowledge: Any = None  # the knowledge collection of the opened generation, if any

    # -- the committed collection (the read path) -----------------------------------------------
    @property
    def collection(self) -> Any:
        """The committed collection, as of when this store (re)opened it."""
        if self._collection is None:
            self._open()
        return self._collection

    def _open(self) -> None:
        manifest = self.manifest()
        self._knowledge = None
        if manifest is None:
            # nothing committed by a generation-aware writer: the plain collection, as before
            metadata: dict[str, Any] = {"model": self.model_name or "unknown"}
            if self.dimension:
                metadata["dimension"] = self.dimension
            try:
                coll = self.client.get_or_create_collection(name=self.collection_name, embedding_function=None, configuration=COSINE, metadata=metadata)
            except Exception as exc:
                raise IndexStateError(
                    f"the Chroma collection {self.collection_name!r} cannot be opened "
                    f"({exc.__class__.__name__}: {first_line(exc)}); {REBUILD}"
                ) from None
            self._check_model(coll.metadata or {})
            self._collection, self._generation, self._stored_dimension = coll, 0, None
            return
        name = str(manifest.get("collection", ""))
        coll = self.generations.get(name)
        if coll is None:
            raise IndexStateError(f"the index manifest names the collection {name!r}, which is missing (half-deleted data folder?); {REBUILD}")
        self._check_model({**(coll.metadata or {}), **manifest})
        expected = manifest.get("chunks")
        actual = self._safe(coll.count)
        if expected is not None and int(expected) != int(actual):
            raise IndexStateError(f"the index manifest lists {expected} chunks but the collection {name!r} holds {actual}; {REBUILD}")
        self._collection, self._generation = coll, int(manifest.get("generation", 0))
        self._stored_dimension = int(manifest["dimension"]) if manifest.get("dimension") else None
        if manifest.get("knowledge"):  # derived: without it, collection questions fall back
            self._knowledge = self.generations.get(str(manifest["knowledge"]))

    def _check_model(self, meta: dict[str, Any]) -> None:
        stored = meta.get("model")
        if self.model_name and stored and stored != "unknown" and stored != self.model_name:
            raise IndexStateError(f"the index was built with the embedding model {stored!r}, not {self.model_name!r}; {REBUILD}")
        dim = meta.get("dimension")
        if self.dimension and dim and int(dim) != self.dimension:
            raise IndexStateError(f"the index holds {dim}-dimensional vectors but the model makes {self.dimension}; {REBUILD}")

    def _safe(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IndexStateError:
            raise
        except Exception as exc:
            raise unreadable(exc) from None

    def manifest(self) -> dict[str, Any] | None:
        """The committed manifest, or None when no generation was ever committed."""
        return self.generations.manifest()

    @property
    def generation(self) -> int:
        """The generation this store reads (0: never committed by a generation-aware writer)."""
        _ = self.collection
        return self._generation

    @property
    def stored_dimension(self) -> int | None:
        _ = self.collection
        return self._stored_dimension

    def changed(self) -> bool:
        """True when another generation was committed since this store opened its collection."""
        if self._collection is None:
            return True
        return int((self.manifest() or {}).get("generation", 0)) != self._generation

    def refresh(self) -> None:
        """Forget the opened collection if another generation was committed since (a writer's
        plan must start from what is committed now); it reopens on next use."""
        if self._collection is not None and self.changed():
            self._collection = None

    def snapshot(self) -> ChromaStore:
        """A store pinned to the generation committed now (for readers: one state per question)."""
        view = ChromaStore(self.client, self.collection_name, self.model_name, self.dimension)
        view._open()
        view.verify()
        return view

    def verify(self) -> None:
        """Read one stored vector back through the vector index; ``IndexStateError`` when the
        data folder is damaged."""
        coll = self.collection
        if self._safe(coll.count) == 0:
            return
        peek = self._safe(coll.get, limit=1, include=["embeddings"])
        vectors = peek.get("embeddings")
        if vectors is None or len(vectors) == 0:
            raise IndexStateError(f"the index holds chunks without vectors; {REBUILD}")
        res = self._safe(coll.query, query_embeddings=[list(map(float, vectors[0]))], n_results=1, include=["distances"])
        if not res["ids"] or not res["ids"][0]:
            raise IndexStateError(f"the index's vector files are missing or damaged; {REBUILD}")

    def exists(self) -> bool:
        names = self.generations.listed()
        return self.collection_name in names or self.generations.manifest_name in names

    def count(self) -> int:
        return int(self._safe(self.collection.count))

    # -- generations (the write path) ------------------------------------------------------------
    def begin_generation(self, expect_dimension: int | None = None, knowledge: bool = True) -> ChromaStore:
        """A new, empty collection for the next generation (and, with ``knowledge``, its
        knowledge collection); no reader sees them before ``commit``."""
        manifest = self.manifest() or {}
        gen = self.generations.next_generation(manifest)
        writer = ChromaStore(self.client, self.collection_name, self.model_name, self.dimension)
        writer._collection, writer._knowledge = self.generations.create(gen, self.model_name, knowledge)
        writer._generation = gen
        writer._stored_dimension = expect_dimension
        # what the writer's plan was made from: the opened generation, or (a rebuild, which
        # reads nothing) the committed one now
        writer._base = self._generation if self._collection is not None else int(manifest.get("generation", 0))
        return writer

    def copy_from(self, other: ChromaStore, sources: set[str], tick: Callable[[], None] | None = None) -> int:
        """Copy the chunks (vectors included) of ``sources`` from ``other``; no re-embedding.
        ``tick`` is called after each page (a writer renews its lease there)."""
        copied = 0
        for ids, metas, docs, vecs in other._pages_with_vectors():
            if tick is not None:
                tick()
            keep = [j for j, m in enumerate(metas) if str((m or {}).get("source", "")) in sources]
            limit = self._max_batch()
            for i in range(0, len(keep), limit):
                part = keep[i : i + limit]
                self.collection.upsert(
                    ids=[ids[j] for j in part],
                    embeddings=[list(map(float, vecs[j])) for j in part],
                    documents=[docs[j] or "" for j in part],
                    metadatas=[metas[j] or {} for j in part],
                )
            copied += len(keep)
        return copied

    def _pages_with_vectors(self) -> Iterable[tuple[list[str], list[Any], list[Any], list[Any]]]:
        for res in self._pages(["metadatas", "documents", "embeddings"]):
            yield res["ids"], list(res["metadatas"]), list(res["documents"]), list(res["embeddings"])

    def commit(self, writer: ChromaStore, lease: WriterLease | None = None, extra: dict[str, Any] | None = None) -> None:
        """Make ``writer``'s collection the committed one: a single atomic metadata write
        (the manifest, with ``extra`` entries of the caller's).

        Refused (``IndexStateError``, ``writer``'s generation dropped) when ``lease`` is no
        longer held or another writer committed since ``writer`` began; both are re-read right
        before the write (the window left is in ``index/locking.py``)."""
        if lease is not None:
            try:
                lease.check()
            except IndexStateError:
                self.abandon(writer)
                raise
        current = self.manifest() or {}
        if int(current.get("generation", 0)) != writer._base:
            self.abandon(writer)
            raise self.moved_error(int(current.get("generation", 0)))
        knowledge = writer._knowledge.name if writer._knowledge is not None else None
        meta = manifest_entry(
            current, writer._generation, writer._collection.name, writer.count(), self.model_name,
            writer._stored_dimension, knowledge, extra,
        )
        self.generations.write_manifest(meta)
        self._collection, self._generation, self._stored_dimension = writer._collection, writer._generation, writer._stored_dimension
        self._knowledge = writer._knowledge

    def abandon(self, writer: ChromaStore) -> int | None:
        """Drop ``writer``'s generation unless it is the committed one. Returns the generation
        committed now when another writer committed after ``writer`` began."""
        try:
            current = self.manifest() or {}
        except IndexStateError:
            return None
        name = writer._collection.name if writer._collection is not None else None
        if name and current.get("collection") != name:
            knowledge = writer._knowledge.name if writer._knowledge is not None else None
            for dropped in (name, knowledge):
                if dropped and dropped != current.get("knowledge"):
                    self.generations.drop(dropped)  # False: dropped already by another writer's cleanup
        committed = int(current.get("generation", 0))
        return committed if committed != writer._base and current.get("collection") != name else None

    def moved_error(self, generation: int) -> IndexStateError:
        """The refusal of a writer that began before another writer committed ``generation``."""
        return moved_error(self.collection_name, generation)

    def drop_stale(self, keep_newer: bool = False) -> list[str]:
        """Delete leftovers of killed runs and old generations (``Generations.drop_stale``)."""
        return self.generations.drop_stale(keep_newer)

    def reset(self) -> None:
        """Drop every generation, the manifest and everything in them."""
        self.generations.reset()
        self._collection = None
        self._knowledge = None

    # -- the writer lease's record (``index/locking.py``) ----------------------------------------
    def read_lease(self) -> dict[str, Any]:
        """The writer lease as stored (``{}`` when none was ever taken)."""
        return self.generations.read_lease()

    def write_lease(self, meta: dict[str, Any]) -> None:
        """Replace the writer lease with ``meta`` (one metadata write)."""
        self.generations.write_lease(meta)

    # -- writes ----------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        if not chunks:
            return
        dim = len(embeddings[0])
        if self._stored_dimension and dim != self._stored_dimension:
            raise IndexStateError(f"the index holds {self._stored_dimension}-dimensional vectors but the model makes {dim}; {REBUILD}")
        self._stored_dimension = dim
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
        except Exception:  # noqa: BLE001 - an older client without the call
            return 1000

    # -- reads -----------------------------------------------------------------------------------
    def _pages(self, include: list[str]) -> Iterable[dict[str, Any]]:
        return pages(lambda **kw: self._safe(self.collection.get, **kw), include)

    def articles(self) -> dict[str, StoredArticle]:
        """Every article in the store with its hash and chunk ids (metadata only, paged)."""
        ids_by_source: dict[str, list[str]] = {}
        hash_by_source: dict[str, str] = {}
        for res in self._pages(["metadatas"]):
            for cid, meta in zip(res["ids"], res.get("metadatas") or [None] * len(res["ids"])):
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
        for res in self._pages(["metadatas", "documents"]):
            out.extend(metadata_to_chunk(i, d or "", m or {}) for i, m, d in zip(res["ids"], res["metadatas"], res["documents"]))
        return out

    def source_vectors(self, source: str) -> Any:
        """The stored vectors of one article's chunks (an array, one row per chunk)."""
        return self._safe(self.collection.get, where={"source": source}, include=["embeddings"])["embeddings"]

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids:
            return []
        res = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {i: metadata_to_chunk(i, d or "", m or {}) for i, m, d in zip(res["ids"], res["metadatas"], res["documents"])}
        return [by_id[i] for i in ids if i in by_id]

    def _query(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None, include: list[str]) -> dict[str, Any] | None:
        if n <= 0:
            return None
        if self._stored_dimension and len(embedding) != self._stored_dimension:
            raise IndexStateError(
                f"the index holds {self._stored_dimension}-dimensional vectors but the model makes {len(embedding)}; {REBUILD}"
            )
        # Chroma returns fewer than n_results when the collection (or the filter) holds fewer
        return self._safe(self.collection.query, query_embeddings=[list(map(float, embedding))], n_results=n, where=where or None, include=include)

    def query(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """The ``n`` nearest chunks with cosine similarity (higher is better)."""
        res = self._query(embedding, n, where, ["metadatas", "documents", "distances"])
        if res is None:
            return []
        ids, metas, docs, dists = res["ids"][0], res["metadatas"][0], res["documents"][0], res["distances"][0]
        return [(metadata_to_chunk(i, d or "", m or {}), 1.0 - float(dist)) for i, m, d, dist in zip(ids, metas, docs, dists)]

    def nearest(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Ids of the ``n`` nearest chunks with cosine similarity, without their texts: a third
        of ``query``'s time, for callers that hold the chunks already (the keyword index)."""
        res = self._query(embedding, n, where, ["distances"])
        if res is None:
            return []
        return [(i, 1.0 - float(dist)) for i, dist in zip(res["ids"][0], res["distances"][0])]

    # -- knowledge (article-level records of the same generation; ``index/knowledge_store.py``) --
    @property
    def knowledge(self) -> KnowledgeRecords | None:
        """The opened generation's knowledge records, or None when it has none."""
        _ = self.collection
        return None if self._knowledge is None else KnowledgeRecords(self._knowledge, self._safe, self._max_batch)

    @property
    def has_knowledge(self) -> bool:
        """True when the opened generation has a knowledge collection."""
        _ = self.collection
        return self._knowledge is not None

    def add_knowledge(self, ids: Sequence[str], documents: Sequence[str], metadatas: Sequence[dict[str, Any]], embeddings: Sequence[Sequence[float]]) -> None:
        """Upsert knowledge records into this (writer's) generation."""
        known = self.knowledge
        if known is None:
            raise IndexStateError("this store has no knowledge collection to write (not a writer's generation)")
        known.add(ids, documents, metadatas, embeddings)

    def copy_knowledge_from(self, other: ChromaStore, sources: dict[str, str], tick: Callable[[], None] | None = None) -> int:
        """Copy ``other``'s knowledge records of ``sources`` (source -> article hash: only records
        of that very version) into this writer's generation; no re-embedding."""
        mine, theirs = self.knowledge, other.knowledge
        if theirs is None:
            return 0
        if mine is None:
            raise IndexStateError("this store has no knowledge collection to write (not a writer's generation)")
        return mine.copy_from(theirs, sources, tick)

    def knowledge_hashes(self) -> dict[str, str]:
        """``source -> article hash`` of every article the opened generation has knowledge of."""
        known = self.knowledge
        return {} if known is None else known.hashes()

    def knowledge_records(self, where: dict[str, Any] | None = None, vectors: bool = False) -> list[tuple[str, str, dict[str, Any], Any]]:
        """``(id, document, metadata, vector or None)`` of the knowledge records matching ``where``."""
        known = self.knowledge
        return [] if known is None else known.records(where, vectors)

    def knowledge_nearest(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None) -> list[tuple[str, str, dict[str, Any], float, Any]]:
        """The ``n`` knowledge records nearest ``embedding``: ``(id, document, metadata, cosine, vector)``."""
        known = self.knowledge
        return [] if known is None else known.nearest(embedding, n, where)
