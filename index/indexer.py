"""Incremental, crash-safe indexing: embed only what changed, remove what was deleted.

``plan`` (pure) compares the corpus with what the store holds, by article content hash.
``Indexer.sync`` carries the plan out on a new store generation: the vectors of unchanged
articles are copied over (no embedding), new and changed articles are chunked and embedded in
batches that stream straight into it, then one atomic manifest write commits it. Until then
readers see the previous generation, whole; a run killed at any point leaves uncommitted
leftovers that the next run drops first. Then the keyword index is brought in step.
On a shared Chroma server the run holds a ``WriterLease`` (renewed at every step) and its
commit is refused, its generation dropped, when another writer committed since it began.

With ``knowledge=True`` the same generation also gets each article's key points and named things
(``index/knowledge.py``), made only for articles that are new, changed or not yet known (by
content hash, and all of them when the knowledge code changes: its signature is in the
manifest); the others' records are copied from the previous generation like their vectors.

``Indexer.checkpoint`` (None by default) is called with the name of each step
(``CHECKPOINTS``) so callers can report progress or, in tests, stop a run at a precise point.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from corpus.chunking import chunk_article
from corpus.errors import IndexStateError
from corpus.models import Article, Chunk
from index.embedding import Embedder
from index.keyword import KeywordIndex, fingerprint
from index.knowledge import extract, knowledge_signature
from index.knowledge_records import to_records
from index.knowledge_text import headings
from index.locking import WriterLease
from index.memory import release_free_memory
from index.records import StoredArticle
from index.store import ChromaStore

__all__ = ["CHECKPOINTS", "IndexCheck", "IndexPlan", "IndexReport", "Indexer", "open_keyword", "plan"]

Progress = Callable[[int, int], None]
CHECKPOINTS = ("start", "begun", "copied", "embedded", "learned", "written", "committed", "cleaned", "done")


@dataclass(frozen=True)
class IndexPlan:
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class IndexReport:
    """Counts are articles, except ``chunks`` (in the index now) and ``embedded`` (this run)."""

    added: int
    updated: int
    removed: int
    unchanged: int
    chunks: int
    embedded: int
    seconds: float
    warnings: tuple[str, ...] = ()
    learned: int = 0  # articles whose key points and names were made this run
    points: int = 0  # key-point sentences embedded this run (the embedder's other texts)

    def summary(self) -> str:
        if not (self.added or self.updated or self.removed):
            head = f"Index up to date: nothing changed ({self.unchanged} articles unchanged)"
        else:
            head = (
                f"Indexed: {self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged"
            )
        return f"{head}; {self.chunks} chunks in the index, {self.embedded} embedded, {self.seconds:.1f} s"


@functools.cache
def _chunker_source() -> bytes:
    import corpus.chunking
    import corpus.text

    return b"".join(Path(m.__file__).read_bytes() for m in (corpus.chunking, corpus.text) if m.__file__)


def chunking_signature(max_chars: int, overlap_chars: int) -> str:
    """Names how chunks were made: the settings and the chunking code itself (any edit to it
    changes the signature, so a new version re-chunks what it must)."""
    h = hashlib.sha256(f"{max_chars}:{overlap_chars}\n".encode())
    h.update(_chunker_source())
    return h.hexdigest()[:16]


def _chunk_ids(stored: dict[str, StoredArticle]) -> list[str]:
    return [i for a in stored.values() for i in a.chunk_ids]


def plan(articles: Sequence[Article], stored: dict[str, StoredArticle]) -> IndexPlan:
    """What to add, update, remove and keep. Pure."""
    current = {a.source: a.hash for a in articles}
    added = tuple(s for s in current if s not in stored)
    updated = tuple(s for s in current if s in stored and stored[s].article_hash != current[s])
    unchanged = tuple(s for s in current if s in stored and stored[s].article_hash == current[s])
    removed = tuple(s for s in stored if s not in current)
    return IndexPlan(added, updated, removed, unchanged)


class Indexer:
    """Keeps a ``ChromaStore`` and a ``KeywordIndex`` in step with a list of articles."""

    def __init__(
        self,
        store: ChromaStore,
        keyword: KeywordIndex,
        embedder: Embedder,
        max_chars: int = 800,
        overlap_chars: int = 200,
        batch_size: int = 64,
        knowledge: bool = False,
    ):
        self.store = store
        self.keyword = keyword
        self.embedder = embedder
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars
        self.batch_size = batch_size
        self.knowledge = knowledge
        self.checkpoint: Callable[[str], None] | None = None
        self._lease: WriterLease | None = None

    def _step(self, name: str) -> None:
        self._renew()
        if self.checkpoint is not None:
            self.checkpoint(name)

    def _renew(self) -> None:
        if self._lease is not None:
            self._lease.renew()

    def sync(
        self,
        articles: Sequence[Article],
        rebuild: bool = False,
        progress: Progress | None = None,
        lease: WriterLease | None = None,
    ) -> IndexReport:
        """Carry out the plan; ``lease`` (a shared server) is renewed at every step and checked
        at commit. A run that cannot commit drops its own generation."""
        self._lease = lease
        try:
            return self._sync(articles, rebuild, progress, lease)
        finally:
            self._lease = None

    def _sync(self, articles: Sequence[Article], rebuild: bool, progress: Progress | None, lease: WriterLease | None) -> IndexReport:
        started = time.perf_counter()
        self._step("start")
        self.store.refresh()  # another machine may have committed since this store opened
        self.store.drop_stale(keep_newer=lease is not None)  # what a killed run left behind
        stored = {} if rebuild else self.store.articles()
        if not rebuild:
            self._check_dimension()
        the_plan = plan(articles, stored)
        signature = chunking_signature(self.max_chars, self.overlap_chars)
        manifest = {} if rebuild else (self.store.manifest() or {})
        if manifest.get("chunking") == signature and sum(len(a.chunk_ids) for a in stored.values()) == manifest.get("chunks"):
            # chunked by this code with these settings, every committed chunk still there: an
            # unchanged article chunks exactly as stored (ids are content hashes); no re-chunking
            rechunked: tuple[str, ...] = ()
        else:
            rechunked = self._mismatched(articles, stored, the_plan)
        if rechunked:  # same text, other chunks (chunk settings changed, a chunk lost): redo them
            the_plan = replace(
                the_plan,
                updated=the_plan.updated + rechunked,
                unchanged=tuple(s for s in the_plan.unchanged if s not in rechunked),
            )
        # article knowledge: copy what is known of this very version, make the rest
        known: dict[str, str] = {}
        if self.knowledge and not rebuild and manifest.get("knowledge_signature") == knowledge_signature():
            known = self.store.knowledge_hashes()
        redo = set(the_plan.added + the_plan.updated)
        keep_known = {a.source: a.hash for a in articles if a.source not in redo and known.get(a.source) == a.hash}
        to_learn = [a for a in articles if a.source not in keep_known] if self.knowledge else []
        embedded = learned = points = 0
        if rebuild or the_plan.changed or to_learn:
            writer = self.store.begin_generation(None if rebuild else self.store.stored_dimension, knowledge=self.knowledge)
            try:
                if lease is not None:
                    lease.building(writer.generation)
                self._step("begun")
                if the_plan.unchanged:
                    writer.copy_from(self.store, set(the_plan.unchanged), tick=self._renew)
                self._step("copied")
                # the chunk list lives only for the call: the keyword build below must not find a
                # second copy of every new chunk's text still held here
                embedded = self._embed_into_store(writer, self._chunks_to_embed(articles, the_plan), progress)
                extra = {"chunking": signature}
                if self.knowledge:
                    if keep_known:
                        writer.copy_knowledge_from(self.store, keep_known, tick=self._renew)
                    learned, points = self._learn(writer, to_learn)
                    extra["knowledge_signature"] = knowledge_signature()
                self._step("written")
                self.store.commit(writer, lease, extra=extra)
            except Exception:
                # not committed: drop this run's generation; when another writer's commit is
                # why (it may have dropped our generation under us), say so
                moved = self.store.abandon(writer)
                if moved is not None:
                    raise self.store.moved_error(moved) from None
                if lease is not None:
                    lease.check()  # raises when another writer took the lease over
                raise
            self._step("committed")
            self.store.drop_stale(keep_newer=lease is not None)
            self._step("cleaned")
        self.refresh_keyword(None if (rebuild or the_plan.changed) else stored)
        self._step("done")
        return IndexReport(
            added=len(the_plan.added),
            updated=len(the_plan.updated),
            removed=len(the_plan.removed),
            unchanged=len(the_plan.unchanged),
            chunks=self.store.count(),
            embedded=embedded,
            seconds=time.perf_counter() - started,
            learned=learned,
            points=points,
        )

    def _check_dimension(self) -> None:
        stored = self.store.stored_dimension
        if stored:
            # a lazily loaded model declares its dimension: no need to load it to check
            made = getattr(self.embedder, "dimension", None) or len(self.embedder.embed_query("dimension probe"))
            if made != stored:
                raise IndexStateError(
                    f"the index holds {stored}-dimensional vectors but the model makes {made}; "
                    "run `assistant index --rebuild`"
                )

    def _chunks_to_embed(self, articles: Sequence[Article], the_plan: IndexPlan) -> list[Chunk]:
        by_source = {a.source: a for a in articles}
        todo: list[Chunk] = []
        for source in the_plan.added + the_plan.updated:
            todo.extend(chunk_article(by_source[source], self.max_chars, self.overlap_chars))
        return todo

    def _embed_into_store(self, store: ChromaStore, chunks: list[Chunk], progress: Progress | None) -> int:
        # Sorting by length keeps padding low inside a batch; batches go straight to the
        # store, so the corpus's vectors are never all in memory at once.
        order = sorted(chunks, key=lambda c: len(c.embedding_text()))
        done = 0
        for i in range(0, len(order), self.batch_size):
            batch = order[i : i + self.batch_size]
            vectors = self.embedder.embed_documents([c.embedding_text() for c in batch])
            store.upsert(batch, vectors)
            del vectors
            release_free_memory()  # the next batch has another shape; see index/memory.py
            done += len(batch)
            self._step("embedded")
            if progress:
                progress(done, len(order))
        return done

    def _learn(self, store: ChromaStore, articles: Sequence[Article]) -> tuple[int, int]:
        """Make and store the knowledge of ``articles``, 16 at a time: the point sentences are
        embedded in batches; an article's own records (title and names) get the normalised mean
        of its points' vectors (its content centroid), or a fixed unit vector when it has none.
        Returns the numbers of articles and of point sentences embedded."""
        import numpy as np

        done = embedded = 0
        for i in range(0, len(articles), 16):
            records = []
            for article in articles[i : i + 16]:
                chunks = chunk_article(article, self.max_chars, self.overlap_chars)
                records.extend(to_records(extract(article, chunks), headings(article)))
            texts = [r[3] for r in records if r[2]["kind"] == "point"]
            made = []
            for j in range(0, len(texts), self.batch_size):
                made.extend(self.embedder.embed_documents(texts[j : j + self.batch_size]))
            dim = len(made[0]) if made else (store.stored_dimension or getattr(self.embedder, "dimension", None) or len(self.embedder.embed_query("dimension probe")))
            points = iter(np.asarray(made, dtype=np.float32).reshape(len(made), dim))
            vectors: list[np.ndarray] = []
            owner = 0  # the index of the current article record
            for n, (_, _, meta, _) in enumerate(records):
                if meta["kind"] == "point":
                    vectors.append(next(points))
                elif meta["kind"] == "article":
                    self._centroid(vectors, owner, dim)
                    owner = n
                    vectors.append(np.zeros(dim, dtype=np.float32))
                else:  # the names record: the article's centroid too (set below)
                    vectors.append(np.zeros(dim, dtype=np.float32))
            self._centroid(vectors, owner, dim)
            store.add_knowledge([r[0] for r in records], [r[1] for r in records], [r[2] for r in records], vectors)
            done += len(articles[i : i + 16])
            embedded += len(texts)
            self._step("learned")
        return done, embedded

    @staticmethod
    def _centroid(vectors: list, owner: int, dim: int) -> None:
        import numpy as np

        if owner >= len(vectors):
            return
        members = vectors[owner + 2 :]  # the article record, its names record, its points
        total = np.sum(members, axis=0) if members else np.zeros(dim, dtype=np.float32)
        norm = float(np.linalg.norm(total))
        if norm == 0.0:
            total = np.zeros(dim, dtype=np.float32)
            total[0], norm = 1.0, 1.0
        vectors[owner] = vectors[owner + 1] = total / norm

    def refresh_keyword(self, stored: dict[str, StoredArticle] | None = None) -> bool:
        """Bring the keyword index in step with the collection (``stored``: its articles, when
        the caller has just read them); True if it was rebuilt."""
        return self.keyword.sync(_chunk_ids(self.store.articles() if stored is None else stored), self.store.all_chunks)

    def _mismatched(self, articles: Sequence[Article], stored: dict[str, StoredArticle], the_plan: IndexPlan) -> tuple[str, ...]:
        """Unchanged articles whose stored chunk ids are not exactly the ones chunking gives."""
        keep = set(the_plan.unchanged)
        out = []
        for article in articles:
            if article.source in keep:
                expected = [c.id for c in chunk_article(article, self.max_chars, self.overlap_chars)]
                if sorted(expected) != sorted(stored[article.source].chunk_ids):
                    out.append(article.source)
        return tuple(out)

    def check(self, articles: Sequence[Article]) -> IndexCheck:
        """Compare the committed index with ``articles`` chunk by chunk (no embedding)."""
        stored = self.store.articles()
        the_plan = plan(articles, stored)
        rechunked = self._mismatched(articles, stored, the_plan)
        self.store.verify()
        ids = _chunk_ids(stored)
        return IndexCheck(
            plan=the_plan,
            mismatched=tuple(rechunked),
            duplicates=len(ids) - len(set(ids)),
            chunks=len(ids),
        )


@dataclass(frozen=True)
class IndexCheck:
    """How the committed index compares with the corpus; ``ok`` when it matches exactly."""

    plan: IndexPlan
    mismatched: tuple[str, ...]
    duplicates: int
    chunks: int

    @property
    def ok(self) -> bool:
        return not (self.plan.changed or self.mismatched or self.duplicates)

    def summary(self) -> str:
        p = self.plan
        if self.ok:
            return f"Index matches the corpus: {len(p.unchanged)} articles, {self.chunks} chunks"
        parts = []
        for label, items in (("not indexed", p.added), ("changed since indexing", p.updated),
                             ("deleted but still indexed", p.removed), ("with wrong chunks", self.mismatched)):
            if items:
                shown = ", ".join(items[:5]) + (f", … (+{len(items) - 5})" if len(items) > 5 else "")
                parts.append(f"{len(items)} {label} ({shown})")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate chunks")
        return "Index does not match the corpus: " + "; ".join(parts) + "; run `assistant index`"


def open_keyword(store: ChromaStore, like: KeywordIndex) -> KeywordIndex:
    """A fresh keyword index for ``store``'s chunks, for readers: loads the saved copy when it
    matches and otherwise builds in memory (only the writer saves)."""
    ids = _chunk_ids(store.articles())
    keyword = KeywordIndex(like.folder, k1=like.k1, b=like.b)
    try:
        loaded = keyword.load()  # the writer may be replacing the saved copy right now
    except Exception:  # noqa: BLE001 - any damage just means: build it here
        loaded = False
    if loaded and keyword.fingerprint == fingerprint(ids):
        return keyword
    keyword = KeywordIndex(like.folder, k1=like.k1, b=like.b)
    keyword.build(store.all_chunks())
    return keyword
