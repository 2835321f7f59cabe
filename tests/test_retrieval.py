"""Dense retrieval's fast path: ids and scores from Chroma, chunk texts from the keyword index.

A real embedded Chroma and a real BM25 index over the tiny corpus; the fake embedder only
makes the vectors (the store and the retriever are what is tested here).
"""

from __future__ import annotations

from pathlib import Path

from assistant.core import Assistant
from assistant.retrieval import HybridRetriever
from index.keyword import KeywordIndex

from conftest import FakeEmbedder


def _indexed(tiny_corpus: Path, settings_for) -> Assistant:
    assistant = Assistant.from_settings(settings_for(tiny_corpus), embedder=FakeEmbedder())
    assistant.index()
    return assistant


def test_store_nearest_matches_query_ids_and_scores(tiny_corpus: Path, settings_for):
    store = _indexed(tiny_corpus, settings_for)._c.retriever.store
    vector = FakeEmbedder().embed_query("goroutines and channels")
    full = store.query(vector, 4)
    ids = store.nearest(vector, 4)
    assert len(full) == 4
    assert [cid for cid, _ in ids] == [chunk.id for chunk, _ in full]
    assert [round(s, 6) for _, s in ids] == [round(s, 6) for _, s in full]
    assert ids[0][1] > ids[-1][1]


def test_store_nearest_more_than_stored_filtered_and_zero(tiny_corpus: Path, settings_for):
    store = _indexed(tiny_corpus, settings_for)._c.retriever.store
    vector = FakeEmbedder().embed_query("memory safety")
    everything = store.nearest(vector, 1000)
    assert len(everything) == store.count()
    only_rust = store.nearest(vector, 1000, {"source": "rust.md"})
    assert only_rust and {c.source for c in store.get([cid for cid, _ in only_rust])} == {"rust.md"}
    assert len(only_rust) < len(everything)
    assert store.nearest(vector, 0) == []


def test_retriever_dense_takes_chunks_from_keyword_index_without_fetching(tiny_corpus: Path, settings_for, monkeypatch):
    retriever = _indexed(tiny_corpus, settings_for)._c.retriever
    vector = FakeEmbedder().embed_query("single binary docker images")
    expected = retriever.store.query(vector, 5)

    def no_fetch(ids):
        raise AssertionError(f"store.get called for {ids}")

    monkeypatch.setattr(retriever.store, "get", no_fetch)
    got = retriever.dense("ignored", 5, vector=vector)
    assert [(c, round(s, 6)) for c, s in got] == [(c, round(s, 6)) for c, s in expected]


def test_retriever_dense_fetches_chunks_the_keyword_index_lacks(tiny_corpus: Path, settings_for):
    retriever = _indexed(tiny_corpus, settings_for)._c.retriever
    vector = FakeEmbedder().embed_query("admin panel without front-end work")
    expected = retriever.store.query(vector, 5)
    partial = KeywordIndex()
    partial.build([c for c, _ in expected[1:]])  # the best chunk is missing from it
    lacking = HybridRetriever(retriever.store, partial, retriever.embedder)
    got = lacking.dense("ignored", 5, vector=vector)
    assert [(c, round(s, 6)) for c, s in got] == [(c, round(s, 6)) for c, s in expected]
