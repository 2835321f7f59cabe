"""The Chroma store adapter: the only module that talks to Chroma.

Chroma never embeds anything itself: collections are created with ``embedding_function=None``
and every write and query carries vectors computed by our embedder. Distances are cosine;
from this adapter on, scores are similarities where **higher is better** (``1 - distance``).

Writes are crash-safe by generations: a re-index fills a new collection ``<name>.g<N>`` and
commits it with one atomic write of the manifest (the metadata of ``<name>.manifest``: the
committed collection, its chunk count, model and vector dimension). Readers only ever open the
committed collection, so a writer killed at any point leaves the old state intact; the next
writer drops the uncommitted leftovers (``drop_stale``).

Each generation has a companion collection ``<name>.k<N>`` for article-level knowledge (key
points and named things, ``index/knowledge.py``): written by the same writer, named by the same
manifest write, dropped with its generation. A reader opens the two together, so the chunks and
the knowledge it reads are always of one generation.

Several writers on one Chroma server (machines with their own data folders, so the local file
lock does not see each other) are kept apart twice:

- a lease (``WriterLease``): the metadata of ``<name>.lock`` names one owner and an expiry; a
  run takes it before touching anything, renews it at its checkpoints and releases it at the
  end; a live lease of another owner refuses (or makes wait) the next writer; an expired one
  (its writer was killed) is taken over.
- an optimistic check at commit: a writer remembers the generation it started from, and
  ``commit`` re-reads the lease and the manifest right before writing; if another writer
  committed meanwhile (or took the lease over), it refuses with ``IndexStateError`` and drops
  its own uncommitted generation: nothing is lost, the other commit stands.

Chroma has no compare-and-swap, so a window remains: both checks are a read followed by a
write. Two writers can both believe they hold the lease when one reads it free before the
other's write lands and writes its own only after the other's re-read (``WriterLease.settle``
seconds after that write): a read-to-write gap longer than the pause. The one overwritten is
then refused at its next renewal or at commit at the latest. Only if both of them commit within the same few
milliseconds (between one's last re-read and its manifest write) does the later write replace
the earlier commit silently (the index stays whole; one run's changes are missing until the
next ``assistant index``). Expiry is wall-clock time, so the writers' clocks must agree to well
within the lease time (``LEASE_SECONDS``), and a writer stalled longer than that between two
checkpoints loses its lease (and is refused when it resumes).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from corpus.errors import IndexStateError
from corpus.models import Chunk

__all__ = [
    "LEASE_SECONDS",
    "ChromaStore",
    "StoredArticle",
    "WriterLease",
    "chunk_to_metadata",
    "discard_local_index",
    "metadata_to_chunk",
    "make_client",
]

# Rows per read. Chroma's working memory for a ``get`` grows with the page (13k SciFact chunks,
# metadata only: +74 MiB RSS at 5,000 rows, +20 MiB at 1,000) and stays flat across pages;
# reading time is the same.
_PAGE = 1000
LEASE_SECONDS = 120.0  # a writer's lease on a shared server; renewed at its checkpoints


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


def make_client(
    path: str | None = None, url: str | None = None, token: str | None = None, ca_file: str | None = None
) -> Any:
    """A Chroma client: a server when ``url`` is given, else embedded at ``path``.

    ``token`` goes out both as ``Authorization: Bearer`` and as ``X-Chroma-Token`` (the two
    headers Chroma's token auth and common proxies read); ``https://`` URLs use SSL, verified
    against ``ca_file`` when given (a self-signed server), else the system's CA store.
    """
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
        headers = {"Authorization": f"Bearer {token}", "X-Chroma-Token": token} if token else None
        if ca_file:
            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False, chroma_server_ssl_verify=ca_file)
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


def discard_local_index(path: str | os.PathLike[str], lock_path: str | os.PathLike[str]) -> None:
    """Delete an embedded index folder that cannot even be opened (for ``--rebuild``), holding
    the writer lock so no indexing run is using it."""
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(lock_path), timeout=0):
            shutil.rmtree(path, ignore_errors=True)
    except Timeout:
        raise IndexStateError(f"another indexing run holds {lock_path}; wait for it to finish") from None
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # noqa: BLE001 - nothing cached
        pass


class ChromaStore:
    """Chunks and their vectors in one Chroma collection (cosine space)."""

    def __init__(self, client: Any, collection_name: str = "articles", model_name: str = "", dimension: int | None = None):
        self.client = client
        self.collection_name = collection_name
        self.model_name = model_name
        self.dimension = dimension
        self._collection: Any = None
        self._generation = 0
        self._stored_dimension: int | None = None
        self._base = 0  # for a writer (``begin_generation``): the generation it started from
        self._knowledge: Any = None  # the knowledge collection of the opened generation, if any

    # -- collection -------------------------------------------------------------------------
    # Generations: every re-index writes a new physical collection ``<name>.g<N>``; one atomic
    # write of the manifest (the metadata of the ``<name>.manifest`` collection) commits it.
    # Readers open the committed collection only, so a killed writer leaves nothing visible.
    @property
    def collection(self) -> Any:
        """The committed collection, as of when this store (re)opened it."""
        if self._collection is None:
            self._open()
        return self._collection

    def _open(self) -> None:
        manifest = self.manifest()
        if manifest is None:
            # nothing committed by a generation-aware writer: the plain collection, as before
            metadata: dict[str, Any] = {"model": self.model_name or "unknown"}
            if self.dimension:
                metadata["dimension"] = self.dimension
            try:
                coll = self.client.get_or_create_collection(
                    name=self.collection_name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata=metadata,
                )
            except Exception as exc:
                raise IndexStateError(
                    f"the Chroma collection {self.collection_name!r} cannot be opened "
                    f"({exc.__class__.__name__}: {_first_line(exc)}); run `assistant index --rebuild`"
                ) from None
            self._check_model(coll.metadata or {})
            self._collection, self._generation, self._stored_dimension = coll, 0, None
            self._knowledge = None
            return
        name = str(manifest.get("collection", ""))
        try:
            coll = self.client.get_collection(name=name)
        except Exception:
            raise IndexStateError(
                f"the index manifest names the collection {name!r}, which is missing "
                "(half-deleted data folder?); run `assistant index --rebuild`"
            ) from None
        self._check_model({**(coll.metadata or {}), **manifest})
        expected = manifest.get("chunks")
        actual = self._safe(coll.count)
        if expected is not None and int(expected) != int(actual):
            raise IndexStateError(
                f"the index manifest lists {expected} chunks but the collection {name!r} holds {actual}; "
                "run `assistant index --rebuild`"
            )
        self._collection, self._generation = coll, int(manifest.get("generation", 0))
        self._stored_dimension = int(manifest["dimension"]) if manifest.get("dimension") else None
        self._knowledge = None
        if manifest.get("knowledge"):
            try:
                self._knowledge = self.client.get_collection(name=str(manifest["knowledge"]))
            except Exception:  # noqa: BLE001 - knowledge is derived: without it, collection questions fall back
                self._knowledge = None

    def _check_model(self, meta: dict[str, Any]) -> None:
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

    def _safe(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IndexStateError:
            raise
        except Exception as exc:
            raise IndexStateError(
                f"the index cannot be read ({exc.__class__.__name__}: {_first_line(exc)}); "
                "run `assistant index --rebuild`"
            ) from None

    @property
    def manifest_name(self) -> str:
        return f"{self.collection_name}.manifest"

    def manifest(self) -> dict[str, Any] | None:
        """The committed manifest, or None when no generation was ever committed."""
        from chromadb.errors import NotFoundError

        try:
            coll = self.client.get_collection(name=self.manifest_name)
        except (NotFoundError, ValueError):
            return None
        except Exception as exc:
            raise IndexStateError(
                f"the index cannot be read ({exc.__class__.__name__}: {_first_line(exc)}); "
                "run `assistant index --rebuild`"
            ) from None
        return dict(coll.metadata or {})

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
        manifest = self.manifest()
        return int((manifest or {}).get("generation", 0)) != self._generation

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
            raise IndexStateError("the index holds chunks without vectors; run `assistant index --rebuild`")
        res = self._safe(coll.query, query_embeddings=[list(map(float, vectors[0]))], n_results=1, include=["distances"])
        if not res["ids"] or not res["ids"][0]:
            raise IndexStateError("the index's vector files are missing or damaged; run `assistant index --rebuild`")

    def _physical_names(self) -> list[str]:
        try:
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception as exc:
            raise IndexStateError(f"the index cannot be read ({_first_line(exc)}); run `assistant index --rebuild`") from None
        prefix = f"{self.collection_name}.g"
        return [n for n in names if n == self.collection_name or (n.startswith(prefix) and n[len(prefix):].isdigit())]

    def _knowledge_names(self) -> list[str]:
        """The knowledge collections ``<name>.k<N>`` of every generation present."""
        try:
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception as exc:
            raise IndexStateError(f"the index cannot be read ({_first_line(exc)}); run `assistant index --rebuild`") from None
        prefix = f"{self.collection_name}.k"
        return [n for n in names if n.startswith(prefix) and n[len(prefix):].isdigit()]

    def _generation_of(self, name: str) -> int:
        """``<name>.g<N>`` is generation N; the plain ``<name>`` (before generations) is 0."""
        for prefix in (f"{self.collection_name}.g", f"{self.collection_name}.k"):
            if name.startswith(prefix):
                return int(name[len(prefix):])
        return 0

    # -- generations (the write path) ----------------------------------------------------------
    def begin_generation(self, expect_dimension: int | None = None, knowledge: bool = True) -> ChromaStore:
        """A new, empty collection for the next generation (and, with ``knowledge``, its
        knowledge collection); no reader sees them before ``commit``."""
        manifest = self.manifest() or {}
        prefix = f"{self.collection_name}.g"
        highest = max(
            [int(manifest.get("generation", 0))]
            + [self._generation_of(n) for n in [*self._physical_names(), *self._knowledge_names()] if n != self.collection_name]
        )
        gen = highest + 1
        # what the writer's plan was made from: the opened generation, or (a rebuild, which
        # reads nothing) the committed one now
        base = self._generation if self._collection is not None else int(manifest.get("generation", 0))
        writer = ChromaStore(self.client, self.collection_name, self.model_name, self.dimension)
        writer._collection = self._safe(
            self.client.create_collection,
            name=f"{prefix}{gen}",
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"model": self.model_name or "unknown", "generation": gen},
        )
        writer._generation = gen
        writer._stored_dimension = expect_dimension
        writer._base = base
        writer._knowledge = None if not knowledge else self._safe(
            self.client.create_collection,
            name=f"{self.collection_name}.k{gen}",
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"model": self.model_name or "unknown", "generation": gen},
        )
        return writer

    def copy_from(self, other: ChromaStore, sources: set[str], tick: Callable[[], None] | None = None) -> int:
        """Copy the chunks (vectors included) of ``sources`` from ``other``; no re-embedding.
        ``tick`` is called after each page (a writer renews its lease there)."""
        copied = 0
        for ids, metas, docs, vecs in other._pages_with_vectors():
            if tick is not None:
                tick()
            keep = [j for j, m in enumerate(metas) if str((m or {}).get("source", "")) in sources]
            if not keep:
                continue
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
        offset = 0
        while True:
            res = self._safe(self.collection.get, include=["metadatas", "documents", "embeddings"], limit=_PAGE, offset=offset)
            ids = res["ids"]
            if not ids:
                return
            yield ids, list(res["metadatas"]), list(res["documents"]), list(res["embeddings"])
            if len(ids) < _PAGE:
                return
            offset += len(ids)

    def commit(self, writer: ChromaStore, lease: WriterLease | None = None, extra: dict[str, Any] | None = None) -> None:
        """Make ``writer``'s collection the committed one: a single atomic metadata write
        (the manifest, with ``extra`` entries of the caller's).

        Refused (``IndexStateError``, ``writer``'s generation dropped) when ``lease`` is no
        longer held or another writer committed since ``writer`` began; both are re-read right
        before the write (the window left is in the module docstring)."""
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
        previous = current.get("collection")
        meta: dict[str, Any] = {
            "generation": writer._generation,
            "collection": writer._collection.name,
            "chunks": writer.count(),
            "model": self.model_name or "unknown",
        }
        if writer._stored_dimension:
            meta["dimension"] = writer._stored_dimension
        if writer._knowledge is not None:
            meta["knowledge"] = writer._knowledge.name
            if current.get("knowledge") and current.get("knowledge") != meta["knowledge"]:
                meta["previous_knowledge"] = current["knowledge"]
        meta.update(extra or {})
        if previous and previous != meta["collection"]:
            meta["previous"] = previous
        manifest = self.client.get_or_create_collection(name=self.manifest_name, embedding_function=None, metadata=meta)
        manifest.modify(metadata=meta)
        self._collection, self._generation, self._stored_dimension = writer._collection, writer._generation, writer._stored_dimension
        self._knowledge = writer._knowledge

    def abandon(self, writer: ChromaStore) -> int | None:
        """Drop ``writer``'s generation unless it is the committed one (best effort). Returns
        the generation committed now when another writer committed after ``writer`` began."""
        try:
            current = self.manifest() or {}
        except IndexStateError:
            return None
        name = writer._collection.name if writer._collection is not None else None
        if name and current.get("collection") != name:
            knowledge = writer._knowledge.name if writer._knowledge is not None else None
            for dropped in (name, knowledge):
                if dropped and dropped != current.get("knowledge"):
                    try:
                        self.client.delete_collection(dropped)
                    except Exception:  # noqa: BLE001 - dropped already (by another writer's cleanup)
                        pass
        committed = int(current.get("generation", 0))
        return committed if committed != writer._base and current.get("collection") != name else None

    def moved_error(self, generation: int) -> IndexStateError:
        """The refusal of a writer that began before another writer committed ``generation``."""
        return IndexStateError(
            f"another writer committed generation {generation} of the collection {self.collection_name!r} "
            "meanwhile; its commit stands and this run's uncommitted generation was dropped; "
            "run `assistant index` again"
        )

    def drop_stale(self, keep_newer: bool = False) -> list[str]:
        """Delete leftovers of killed runs and old generations: every collection but the
        committed one, the previous one (readers may still be answering from it) and one
        named in a live writer lease. With ``keep_newer`` (a shared server, where a writer that
        lost the lease race may still be building one) collections newer than the committed
        generation are left too, until a later commit makes them older."""
        manifest = self.manifest()
        if manifest is None:
            return []
        committed = int(manifest.get("generation", 0))
        keep = {manifest.get("collection"), manifest.get("previous"), manifest.get("knowledge"), manifest.get("previous_knowledge")}
        lease = self.read_lease()
        if _lease_live(lease) and int(lease.get("generation", 0)):
            keep.add(f"{self.collection_name}.g{int(lease['generation'])}")
            keep.add(f"{self.collection_name}.k{int(lease['generation'])}")
        dropped = []
        for name in [*self._physical_names(), *self._knowledge_names()]:
            if name not in keep and not (keep_newer and self._generation_of(name) > committed):
                try:
                    self.client.delete_collection(name)
                    dropped.append(name)
                except Exception:  # noqa: BLE001 - gone already
                    pass
        return dropped

    def reset(self) -> None:
        """Drop every generation, the manifest and everything in them."""
        for name in [*self._physical_names(), *self._knowledge_names(), self.manifest_name]:
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - absent already
                pass
        self._collection = None
        self._knowledge = None

    # -- the writer lease (shared servers) ------------------------------------------------------
    @property
    def lease_name(self) -> str:
        return f"{self.collection_name}.lock"

    def read_lease(self) -> dict[str, Any]:
        """The writer lease as stored (``{}`` when none was ever taken)."""
        from chromadb.errors import NotFoundError

        try:
            return dict(self.client.get_collection(name=self.lease_name).metadata or {})
        except (NotFoundError, ValueError):
            return {}
        except Exception as exc:
            raise IndexStateError(f"the index lease cannot be read ({exc.__class__.__name__}: {_first_line(exc)})") from None

    def write_lease(self, meta: dict[str, Any]) -> None:
        """Replace the writer lease with ``meta`` (one metadata write)."""
        try:
            coll = self.client.get_or_create_collection(name=self.lease_name, embedding_function=None, metadata=meta)
            coll.modify(metadata=meta)
        except Exception as exc:
            raise IndexStateError(f"the index lease cannot be written ({exc.__class__.__name__}: {_first_line(exc)})") from None

    def exists(self) -> bool:
        try:
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception as exc:
            raise IndexStateError(f"the index cannot be read ({exc}); run `assistant index --rebuild`") from None
        return self.collection_name in names or self.manifest_name in names

    def count(self) -> int:
        return int(self._safe(self.collection.count))

    # -- writes -------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        if not chunks:
            return
        dim = len(embeddings[0])
        if self._stored_dimension and dim != self._stored_dimension:
            raise IndexStateError(
                f"the index holds {self._stored_dimension}-dimensional vectors but the model makes {dim}; "
                "run `assistant index --rebuild`"
            )
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

    def source_vectors(self, source: str) -> Any:
        """The stored vectors of one article's chunks (an array, one row per chunk)."""
        return self._safe(self.collection.get, where={"source": source}, include=["embeddings"])["embeddings"]

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids:
            return []
        res = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {i: metadata_to_chunk(i, d or "", m or {}) for i, m, d in zip(res["ids"], res["metadatas"], res["documents"])}
        return [by_id[i] for i in ids if i in by_id]

    def _pages(self, include: list[str]) -> Iterable[tuple[list[str], list[Any], list[Any]]]:
        offset = 0
        while True:
            res = self._safe(self.collection.get, include=include, limit=_PAGE, offset=offset)
            ids = res["ids"]
            if not ids:
                return
            metas = res.get("metadatas") or [None] * len(ids)
            docs = res.get("documents") or [None] * len(ids)
            yield ids, metas, docs
            if len(ids) < _PAGE:
                return
            offset += len(ids)

    def _query(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None, include: list[str]) -> dict[str, Any] | None:
        if n <= 0:
            return None
        if self._stored_dimension and len(embedding) != self._stored_dimension:
            raise IndexStateError(
                f"the index holds {self._stored_dimension}-dimensional vectors but the model makes "
                f"{len(embedding)}; run `assistant index --rebuild`"
            )
        # Chroma returns fewer than n_results when the collection (or the filter) holds fewer
        return self._safe(
            self.collection.query,
            query_embeddings=[list(map(float, embedding))],
            n_results=n,
            where=where or None,
            include=include,
        )

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


    # -- knowledge (article-level records of the same generation) -------------------------------
    @property
    def has_knowledge(self) -> bool:
        """True when the opened generation has a knowledge collection."""
        _ = self.collection
        return self._knowledge is not None

    def add_knowledge(self, ids: Sequence[str], documents: Sequence[str], metadatas: Sequence[dict[str, Any]], embeddings: Sequence[Sequence[float]]) -> None:
        """Upsert knowledge records into this (writer's) generation."""
        if not (len(ids) == len(documents) == len(metadatas) == len(embeddings)):
            raise ValueError(f"{len(ids)} ids, {len(documents)} documents, {len(metadatas)} metadatas, {len(embeddings)} embeddings")
        if self._knowledge is None:
            raise IndexStateError("this store has no knowledge collection to write (not a writer's generation)")
        limit = self._max_batch()
        for i in range(0, len(ids), limit):
            self._knowledge.upsert(
                ids=list(ids[i : i + limit]),
                documents=list(documents[i : i + limit]),
                metadatas=list(metadatas[i : i + limit]),
                embeddings=[list(map(float, e)) for e in embeddings[i : i + limit]],
            )

    def _knowledge_pages(self, include: list[str], where: dict[str, Any] | None = None) -> Iterable[dict[str, Any]]:
        if not self.has_knowledge:
            return
        offset = 0
        while True:
            res = self._safe(self._knowledge.get, include=include, where=where, limit=_PAGE, offset=offset)
            if not res["ids"]:
                return
            yield res
            if len(res["ids"]) < _PAGE:
                return
            offset += len(res["ids"])

    def copy_knowledge_from(self, other: ChromaStore, sources: dict[str, str], tick: Callable[[], None] | None = None) -> int:
        """Copy ``other``'s knowledge records of ``sources`` (source -> article hash: only records
        of that very version) into this writer's generation; no re-embedding."""
        copied = 0
        for res in other._knowledge_pages(["metadatas", "documents", "embeddings"]):
            if tick is not None:
                tick()
            metas = list(res["metadatas"])
            keep = [j for j, m in enumerate(metas) if sources.get(str((m or {}).get("source", ""))) == (m or {}).get("article_hash")]
            if keep:
                self.add_knowledge(
                    [res["ids"][j] for j in keep],
                    [res["documents"][j] or "" for j in keep],
                    [metas[j] or {} for j in keep],
                    [res["embeddings"][j] for j in keep],
                )
            copied += len(keep)
        return copied

    def knowledge_hashes(self) -> dict[str, str]:
        """``source -> article hash`` of every article the opened generation has knowledge of."""
        return {
            str(meta.get("source", "")): str(meta.get("article_hash", ""))
            for _, _, meta, _ in self.knowledge_records(where={"kind": "article"})
        }

    def knowledge_records(self, where: dict[str, Any] | None = None, vectors: bool = False) -> list[tuple[str, str, dict[str, Any], Any]]:
        """``(id, document, metadata, vector or None)`` of the knowledge records matching ``where``."""
        include = ["metadatas", "documents"] + (["embeddings"] if vectors else [])
        out = []
        for res in self._knowledge_pages(include, where):
            vecs = res.get("embeddings") if vectors else None
            for j, rid in enumerate(res["ids"]):
                out.append((rid, res["documents"][j] or "", res["metadatas"][j] or {}, None if vecs is None else vecs[j]))
        return out

    def knowledge_nearest(self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None) -> list[tuple[str, str, dict[str, Any], float, Any]]:
        """The ``n`` knowledge records nearest ``embedding``: ``(id, document, metadata, cosine, vector)``."""
        if n <= 0 or not self.has_knowledge:
            return []
        res = self._safe(
            self._knowledge.query,
            query_embeddings=[list(map(float, embedding))],
            n_results=n,
            where=where or None,
            include=["metadatas", "documents", "distances", "embeddings"],
        )
        return [
            (rid, doc or "", meta or {}, 1.0 - float(dist), vec)
            for rid, doc, meta, dist, vec in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], res["embeddings"][0])
        ]


def _lease_live(meta: dict[str, Any]) -> bool:
    return bool(meta.get("owner")) and float(meta.get("expires", 0) or 0) > time.time()


class WriterLease:
    """One indexing run's exclusive right to write a collection on a shared Chroma server.

    Stored as the metadata of ``<name>.lock``: ``owner`` (host:pid:random), ``expires`` (Unix
    time) and ``generation`` (the one being built; 0 before ``begin_generation``). ``acquire``
    refuses, or waits up to ``wait`` seconds, while another owner's lease is live; takes over an
    expired one (its writer was killed); and after writing re-reads once ``settle`` seconds
    later, so that of two writers racing for a free lease the one whose write landed first
    backs off. ``renew`` (at the run's checkpoints) extends it and ``check`` (before the commit)
    confirms it is still ours; both raise ``IndexStateError`` when another writer took it over.
    The window left open is described in this module's docstring.
    """

    def __init__(self, store: ChromaStore, ttl: float = LEASE_SECONDS, owner: str | None = None, settle: float = 0.2):
        if ttl <= 0:
            raise ValueError(f"ttl must be greater than 0. Currently, ttl is {ttl}")
        self.store = store
        self.ttl = ttl
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.settle = settle
        self.generation = 0
        self.held = False
        self._renewed = 0.0

    def _write(self) -> None:
        self.store.write_lease({"owner": self.owner, "expires": time.time() + self.ttl, "generation": self.generation})
        self._renewed = time.monotonic()

    def _held_error(self, meta: dict[str, Any]) -> IndexStateError:
        until = time.strftime("%H:%M:%S UTC", time.gmtime(float(meta.get("expires", 0))))
        return IndexStateError(
            f"another writer ({meta.get('owner')}) is indexing the collection {self.store.collection_name!r} "
            f"on this Chroma server (its lease runs until {until} unless renewed); wait for it to finish "
            "and run `assistant index` again"
        )

    def acquire(self, wait: float = 0) -> WriterLease:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            current = self.store.read_lease()
            if _lease_live(current) and current.get("owner") != self.owner:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._held_error(current)
                time.sleep(min(1.0, left))
                continue
            self._write()
            time.sleep(self.settle)
            if self.store.read_lease().get("owner") == self.owner:
                self.held = True
                return self
            # another writer's write landed after ours: theirs stands, we wait or refuse above

    def check(self) -> None:
        """Raise ``IndexStateError`` unless the stored lease still names this owner."""
        current = self.store.read_lease()
        if current.get("owner") != self.owner:
            self.held = False
            who = current.get("owner") or "which has finished since"
            raise IndexStateError(
                f"this indexing run's lease on the collection {self.store.collection_name!r} expired and was "
                f"taken over by another writer ({who}); nothing of this run was committed; "
                "run `assistant index` again"
            )

    def renew(self, force: bool = False) -> None:
        """Extend the lease (at most every quarter of ``ttl`` unless ``force``), after ``check``."""
        if not self.held or (not force and time.monotonic() - self._renewed < self.ttl / 4):
            return
        self.check()
        self._write()

    def building(self, generation: int) -> None:
        """Name the generation this run builds, so that no one's ``drop_stale`` drops it."""
        self.generation = generation
        self.renew(force=True)

    def release(self) -> None:
        """Give the lease up (best effort: an unreleased lease expires by itself)."""
        if not self.held:
            return
        self.held = False
        try:
            if self.store.read_lease().get("owner") == self.owner:
                self.store.write_lease({"owner": "", "expires": 0.0, "generation": 0})
        except IndexStateError:
            pass
