"""The generation and manifest protocol of one collection name on a Chroma client.

Every re-index fills a new physical collection ``<name>.g<N>`` (and ``<name>.k<N>`` for its
article knowledge) and commits it with one atomic metadata write of ``<name>.manifest``: the
committed collection, its chunk count, model and vector dimension. Readers only open what the
manifest names, so a writer killed at any point leaves the old state intact; the next writer
drops the uncommitted leftovers (``drop_stale``). The writer lease is one more metadata record,
``<name>.lock`` (``index/locking.py`` decides what it means).

This module names, creates, lists and drops those collections and reads and writes the two
records; which generation a store reads or writes is ``ChromaStore``'s state (``index/store.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corpus.errors import IndexStateError
from index.client import REBUILD, first_line, unreadable
from index.locking import lease_live

__all__ = ["Generations", "manifest_entry", "missing", "moved_error"]

COSINE = {"hnsw": {"space": "cosine"}}


def missing() -> tuple[type[BaseException], ...]:
    """What Chroma raises for a collection that is not there (``ValueError`` before 0.6)."""
    from chromadb.errors import NotFoundError

    return (NotFoundError, ValueError)


@dataclass(frozen=True)
class Generations:
    """The physical collections and records behind the collection name ``name``."""

    client: Any
    name: str

    @property
    def manifest_name(self) -> str:
        return f"{self.name}.manifest"

    @property
    def lease_name(self) -> str:
        return f"{self.name}.lock"

    def get(self, collection: str, what: str = "the index") -> Any | None:
        """The collection named ``collection``, or None when there is none; a failing server
        raises ``IndexStateError`` (``what`` cannot be read)."""
        try:
            return self.client.get_collection(name=collection)
        except missing():
            return None
        except Exception as exc:
            raise IndexStateError(f"{what} cannot be read ({exc.__class__.__name__}: {first_line(exc)})") from None

    # -- the two records (collection metadata, one atomic write each) ---------------------------
    def _read_record(self, collection: str, what: str) -> dict[str, Any] | None:
        coll = self.get(collection, what)
        return None if coll is None else dict(coll.metadata or {})

    def _write_record(self, collection: str, meta: dict[str, Any], what: str) -> None:
        try:
            coll = self.client.get_or_create_collection(name=collection, embedding_function=None, metadata=meta)
            coll.modify(metadata=meta)
        except Exception as exc:
            raise IndexStateError(f"{what} cannot be written ({exc.__class__.__name__}: {first_line(exc)})") from None

    def manifest(self) -> dict[str, Any] | None:
        """The committed manifest, or None when no generation was ever committed."""
        try:
            return self._read_record(self.manifest_name, "the index")
        except IndexStateError as exc:
            raise IndexStateError(f"{exc}; {REBUILD}") from None

    def write_manifest(self, meta: dict[str, Any]) -> None:
        self._write_record(self.manifest_name, meta, "the index manifest")

    def read_lease(self) -> dict[str, Any]:
        """The writer lease as stored (``{}`` when none was ever taken)."""
        return self._read_record(self.lease_name, "the index lease") or {}

    def write_lease(self, meta: dict[str, Any]) -> None:
        """Replace the writer lease with ``meta`` (one metadata write)."""
        self._write_record(self.lease_name, meta, "the index lease")

    # -- the physical collections ----------------------------------------------------------------
    def listed(self) -> list[str]:
        """The names of every collection on the client."""
        try:
            return [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception as exc:
            raise unreadable(exc) from None

    def physical(self, names: list[str] | None = None) -> list[str]:
        """The chunk collections: the plain ``<name>`` (before generations) and every ``<name>.g<N>``."""
        prefix = f"{self.name}.g"
        return [n for n in (self.listed() if names is None else names) if n == self.name or (n.startswith(prefix) and n[len(prefix):].isdigit())]

    def knowledge(self, names: list[str] | None = None) -> list[str]:
        """The knowledge collections ``<name>.k<N>`` of every generation present."""
        prefix = f"{self.name}.k"
        return [n for n in (self.listed() if names is None else names) if n.startswith(prefix) and n[len(prefix):].isdigit()]

    def all_generations(self) -> list[str]:
        names = self.listed()
        return [*self.physical(names), *self.knowledge(names)]

    def generation_of(self, name: str) -> int:
        """``<name>.g<N>`` (or ``.k<N>``) is generation N; the plain ``<name>`` is 0."""
        for prefix in (f"{self.name}.g", f"{self.name}.k"):
            if name.startswith(prefix):
                return int(name[len(prefix):])
        return 0

    def next_generation(self, manifest: dict[str, Any]) -> int:
        """One above every generation committed or present (a killed run's included)."""
        present = [self.generation_of(n) for n in self.all_generations() if n != self.name]
        return max([int(manifest.get("generation", 0)), *present]) + 1

    def create(self, generation: int, model: str, knowledge: bool) -> tuple[Any, Any]:
        """The empty chunk collection of ``generation`` and (with ``knowledge``) its knowledge one."""
        meta = {"model": model or "unknown", "generation": generation}
        try:
            chunks = self.client.create_collection(name=f"{self.name}.g{generation}", embedding_function=None, configuration=COSINE, metadata=meta)
            known = None
            if knowledge:
                known = self.client.create_collection(name=f"{self.name}.k{generation}", embedding_function=None, configuration=COSINE, metadata=meta)
        except Exception as exc:
            raise IndexStateError(f"generation {generation} of the index cannot be created ({exc.__class__.__name__}: {first_line(exc)})") from None
        return chunks, known

    def drop(self, name: str) -> bool:
        """Delete one collection; False when it is gone already (another writer's cleanup). A
        failing server raises ``IndexStateError``."""
        try:
            self.client.delete_collection(name)
        except missing():
            return False
        except Exception as exc:
            raise IndexStateError(f"the collection {name!r} cannot be deleted ({exc.__class__.__name__}: {first_line(exc)})") from None
        return True

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
        if lease_live(lease) and int(lease.get("generation", 0)):
            keep |= {f"{self.name}.g{int(lease['generation'])}", f"{self.name}.k{int(lease['generation'])}"}
        stale = [n for n in self.all_generations() if n not in keep and not (keep_newer and self.generation_of(n) > committed)]
        return [n for n in stale if self.drop(n)]

    def reset(self) -> None:
        """Drop every generation and the manifest."""
        for name in [*self.all_generations(), self.manifest_name]:
            self.drop(name)


def manifest_entry(
    current: dict[str, Any], generation: int, collection: str, chunks: int, model: str,
    dimension: int | None, knowledge: str | None, extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest that commits ``collection`` over ``current`` (the one committed now): the
    previous collections are named so that ``drop_stale`` leaves them to readers still on them."""
    meta: dict[str, Any] = {"generation": generation, "collection": collection, "chunks": chunks, "model": model or "unknown"}
    if dimension:
        meta["dimension"] = dimension
    if knowledge is not None:
        meta["knowledge"] = knowledge
        if current.get("knowledge") and current.get("knowledge") != knowledge:
            meta["previous_knowledge"] = current["knowledge"]
    meta.update(extra or {})
    previous = current.get("collection")
    if previous and previous != collection:
        meta["previous"] = previous
    return meta


def moved_error(name: str, generation: int) -> IndexStateError:
    """The refusal of a writer that began before another writer committed ``generation``."""
    return IndexStateError(
        f"another writer committed generation {generation} of the collection {name!r} "
        "meanwhile; its commit stands and this run's uncommitted generation was dropped; "
        "run `assistant index` again"
    )
