"""Incremental indexing: embed only what changed, remove what was deleted.

``plan`` (pure) compares the corpus with what the store holds, by article content hash.
``Indexer.sync`` carries the plan out: new and changed articles are chunked, embedded in
batches that stream straight into the store, then stale chunks are deleted, then the keyword
index is brought in step with the collection. Unchanged articles cost no embedding at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from corpus.chunking import chunk_article
from corpus.models import Article, Chunk
from index.embedding import Embedder
from index.keyword import KeywordIndex
from index.store import ChromaStore, StoredArticle

__all__ = ["IndexPlan", "IndexReport", "Indexer", "plan"]

Progress = Callable[[int, int], None]


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

    def summary(self) -> str:
        if not (self.added or self.updated or self.removed):
            head = f"Index up to date: nothing changed ({self.unchanged} articles unchanged)"
        else:
            head = (
                f"Indexed: {self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged"
            )
        return f"{head}; {self.chunks} chunks in the index, {self.embedded} embedded, {self.seconds:.1f} s"


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
    ):
        self.store = store
        self.keyword = keyword
        self.embedder = embedder
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars
        self.batch_size = batch_size

    def sync(self, articles: Sequence[Article], rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        started = time.perf_counter()
        if rebuild:
            self.store.reset()
        stored = self.store.articles()
        the_plan = plan(articles, stored)
        by_source = {a.source: a for a in articles}
        todo: list[Chunk] = []
        for source in the_plan.added + the_plan.updated:
            todo.extend(chunk_article(by_source[source], self.max_chars, self.overlap_chars))
        new_ids = {c.id for c in todo}
        embedded = self._embed_into_store(todo, progress)
        stale: list[str] = []
        for source in the_plan.updated:
            stale.extend(i for i in stored[source].chunk_ids if i not in new_ids)
        for source in the_plan.removed:
            stale.extend(stored[source].chunk_ids)
        self.store.delete(stale)
        self.refresh_keyword()
        return IndexReport(
            added=len(the_plan.added),
            updated=len(the_plan.updated),
            removed=len(the_plan.removed),
            unchanged=len(the_plan.unchanged),
            chunks=self.store.count(),
            embedded=embedded,
            seconds=time.perf_counter() - started,
        )

    def _embed_into_store(self, chunks: list[Chunk], progress: Progress | None) -> int:
        # Sorting by length keeps padding low inside a batch; batches go straight to the
        # store, so the corpus's vectors are never all in memory at once.
        order = sorted(chunks, key=lambda c: len(c.embedding_text()))
        done = 0
        for i in range(0, len(order), self.batch_size):
            batch = order[i : i + self.batch_size]
            vectors = self.embedder.embed_documents([c.embedding_text() for c in batch])
            self.store.upsert(batch, vectors)
            done += len(batch)
            if progress:
                progress(done, len(order))
        return done

    def refresh_keyword(self) -> bool:
        """Bring the keyword index in step with the collection; True if it was rebuilt."""
        ids = [i for a in self.store.articles().values() for i in a.chunk_ids]
        return self.keyword.sync(ids, self.store.all_chunks)
