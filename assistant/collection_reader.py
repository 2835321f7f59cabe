"""What collection answers read, and the settings they read it with.

``KnowledgeReader`` reads the article knowledge of the generation the retriever is pinned to
(``index/knowledge.py`` made it at index time): the catalog (titles, generic headings, the
collection's centroid) and each article's named things, both read once per generation; it embeds
answer sentences (remembered across questions) and finds chunks for citations. ``refuse`` and
``finish`` make the ``Answer`` every collection answer ends in.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.collection_text import Citer, unknown_names
from assistant.models import Answer
from assistant.shapes import Shape
from index.keyword import tokenize_query
from index.knowledge_records import mentions_from_record, sections_from_record
from index.named_things import Mention, name_key

__all__ = ["ENGINE", "NOT_COVERED", "Catalog", "CollectionParams", "KnowledgeReader", "finish", "refuse"]

ENGINE = "extractive"
NOT_COVERED = "The articles do not cover this question, so I cannot answer it from them."
_VECTORS_KEPT = 5000  # answer-sentence vectors remembered across questions (LRU)


@dataclass(frozen=True)
class CollectionParams:
    """The settings of collection, comparison and summary answers (cosines: higher is better)."""

    min_relevance: float = 0.35  # a narrow question's best point must reach this, else refused
    min_news: float = 1.2  # a broad question's point must say this much beyond the question (collection_text.news)
    same_point: float = 0.55  # two sentences of different articles saying the same thing
    max_groups: int = 8
    per_article: int = 10
    per_article_broad: int = 30
    relevance_margin: float = 0.3  # a narrow answer keeps points within this of the best
    broad_floor: float = 0.2
    broad: float = 0.55  # a question this close to the collection's centroid is broad
    framing: float = 0.65  # sentences closer than this to the centroid say nothing particular
    quotes_per_point: int = 3
    candidate_points: int = 200
    candidate_passages: int = 10
    named_bonus: float = 0.15
    keyword_hits: int = 50
    distinctive_idf: float = 1.4
    max_names: int = 8
    cites_per_name: int = 6
    summary_points: int = 20
    side_sentences: int = 4


@dataclass
class Catalog:
    """The light article records of one generation: titles and headings (names on demand)."""

    generation: int
    titles: dict[str, str]
    generic: set[str]
    centroid: np.ndarray | None = None  # what the collection as a whole is about
    names: dict[str, tuple[Mention, ...]] | None = None
    title_tokens: dict[str, frozenset[str]] | None = None  # made on demand (summaries)
    name_keys: set[str] | None = None


def refuse(question: str, shape: Shape) -> Answer:
    return Answer(question=question, text=NOT_COVERED, refused=True, reason="not_covered", engine=ENGINE, shape=shape.name)


def finish(question: str, shape: Shape, text: str, citer: Citer) -> Answer:
    citations, passages = citer.citations()
    return Answer(question=question, text=text, citations=citations, passages=passages, engine=ENGINE, shape=shape.name)


class KnowledgeReader:
    """``components``: the assistant's (``retriever`` with its pinned store, ``keyword``,
    ``query_embedder``), looked up at each question since a re-index swaps them."""

    def __init__(self, components: Any):
        self._c = components
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def store(self) -> Any:
        return self._c.retriever.store

    @property
    def retriever(self) -> Any:
        return self._c.retriever

    @property
    def keyword(self) -> Any:
        return self._c.keyword

    def available(self) -> bool:
        """True when the committed index has article knowledge."""
        return bool(self.store.has_knowledge)

    def chunk(self, chunk_id: str) -> Any:
        chunk = self._c.keyword.chunk(chunk_id)
        if chunk is None:
            found = self.store.get([chunk_id])
            chunk = found[0] if found else None
        return chunk

    def citer(self) -> Citer:
        return Citer(self.chunk)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of answer sentences (the query model), remembered across questions (LRU)."""
        embedder = self._c.query_embedder
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = {t: np.asarray(v, dtype=np.float32) for t, v in zip(missing, embedder.embed_documents(missing))} if missing else {}
        with self._lock:
            out = [fresh[t] if t in fresh else self._vectors.get(t) for t in texts]
            self._vectors.update(fresh)
            for t in texts:
                if t in self._vectors:
                    self._vectors.move_to_end(t)
            while len(self._vectors) > _VECTORS_KEPT:
                self._vectors.popitem(last=False)
        out = [v if v is not None else np.asarray(embedder.embed_documents([t])[0], dtype=np.float32) for v, t in zip(out, texts)]
        return np.vstack(out) if out else np.zeros((0, 1), dtype=np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        v = np.asarray(self._c.query_embedder.embed_query(text), dtype=np.float32)
        return v / (np.linalg.norm(v) or 1.0)

    def catalog(self) -> Catalog:
        store = self.store
        gen = int(store.generation)
        with self._lock:
            if self._catalog is not None and self._catalog.generation == gen:
                return self._catalog
        titles: dict[str, str] = {}
        heading_counts: dict[str, int] = {}
        total: np.ndarray | None = None
        for _, _, meta, vec in store.knowledge_records(where={"kind": "article"}, vectors=True):
            v = np.asarray(vec, dtype=np.float32)
            total = v / (np.linalg.norm(v) or 1.0) + (total if total is not None else 0.0)
            source = str(meta.get("source", ""))
            titles[source] = str(meta.get("title", ""))
            for h in {re.sub(r"^\s*\d+[.)]\s*", "", s).strip(" :").lower() for s in sections_from_record(meta)}:
                heading_counts[h] = heading_counts.get(h, 0) + 1
        # a heading many articles use ("Conclusion") names no particular point
        generic = {h for h, n in heading_counts.items() if n >= max(3, 0.2 * len(titles))}
        centroid = total / (np.linalg.norm(total) or 1.0) if total is not None else None
        cat = Catalog(gen, titles, generic, centroid)
        with self._lock:
            self._catalog = cat
        return cat

    def names(self, cat: Catalog) -> dict[str, tuple[Mention, ...]]:
        """Every article's names (read once per generation, on the first question that needs them)."""
        if cat.names is None:
            cat.names = {str(m.get("source", "")): mentions_from_record(m) for _, _, m, _ in self.store.knowledge_records(where={"kind": "names"})}
            cat.name_keys = {name_key(m.name) for ms in cat.names.values() for m in ms}
        return cat.names

    def name_keys(self, cat: Catalog) -> set[str]:
        self.names(cat)
        return cat.name_keys or set()

    def title_tokens(self, cat: Catalog) -> dict[str, frozenset[str]]:
        if cat.title_tokens is None:
            cat.title_tokens = {s: frozenset(tokenize_query(t)) for s, t in cat.titles.items()}
        return cat.title_tokens

    def knows(self, word: str) -> bool:
        """True when the keyword index has ``word`` (False for an index that cannot tell)."""
        knows = getattr(self._c.keyword, "knows", None)
        return knows is not None and bool(knows(word))

    def unknown(self, text: str) -> list[str]:
        """Names in ``text`` that no article uses (neither the keyword index nor the names
        extracted at index time know them)."""
        unknown = unknown_names(" " + text, self.knows)
        if not unknown:
            return []
        names = self.name_keys(self.catalog())  # "Go": a stopword to the keyword index, a name here
        return [w for w in unknown if name_key(w) not in names]
