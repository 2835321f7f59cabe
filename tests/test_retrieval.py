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
    store = _indexed(tiny_corpus, settings_for).retriever.store
    vector = FakeEmbedder().embed_query("goroutines and channels")
    full = store.query(vector, 4)
    ids = store.nearest(vector, 4)
    assert len(full) == 4
    assert [cid for cid, _ in ids] == [chunk.id for chunk, _ in full]
    assert [round(s, 6) for _, s in ids] == [round(s, 6) for _, s in full]
    assert ids[0][1] > ids[-1][1]


def test_store_nearest_more_than_stored_filtered_and_zero(tiny_corpus: Path, settings_for):
    store = _indexed(tiny_corpus, settings_for).retriever.store
    vector = FakeEmbedder().embed_query("memory safety")
    everything = store.nearest(vector, 1000)
    assert len(everything) == store.count()
    only_rust = store.nearest(vector, 1000, {"source": "rust.md"})
    assert only_rust and {c.source for c in store.get([cid for cid, _ in only_rust])} == {"rust.md"}
    assert len(only_rust) < len(everything)
    assert store.nearest(vector, 0) == []


def test_retriever_dense_takes_chunks_from_keyword_index_without_fetching(tiny_corpus: Path, settings_for, monkeypatch):
    retriever = _indexed(tiny_corpus, settings_for).retriever
    vector = FakeEmbedder().embed_query("single binary docker images")
    expected = retriever.store.query(vector, 5)

    def no_fetch(ids):
        raise AssertionError(f"store.get called for {ids}")

    monkeypatch.setattr(retriever.store, "get", no_fetch)
    got = retriever.dense("ignored", 5, vector=vector)
    assert [(c, round(s, 6)) for c, s in got] == [(c, round(s, 6)) for c, s in expected]


def test_retriever_dense_fetches_chunks_the_keyword_index_lacks(tiny_corpus: Path, settings_for):
    retriever = _indexed(tiny_corpus, settings_for).retriever
    vector = FakeEmbedder().embed_query("admin panel without front-end work")
    expected = retriever.store.query(vector, 5)
    partial = KeywordIndex()
    partial.build([c for c, _ in expected[1:]])  # the best chunk is missing from it
    lacking = HybridRetriever(retriever.store, partial, retriever.embedder)
    got = lacking.dense("ignored", 5, vector=vector)
    assert [(c, round(s, 6)) for c, s in got] == [(c, round(s, 6)) for c, s in expected]


def test_retriever_defaults_are_the_settings_defaults(tiny_corpus: Path, settings_for):
    from assistant.settings import Settings

    retriever = _indexed(tiny_corpus, settings_for).retriever
    bare = HybridRetriever(retriever.store, retriever.keyword, retriever.embedder)
    s = Settings()
    assert (bare.k, bare.candidates, bare.dense_weight, bare.fusion, bare.rrf_k, bare.lead_ratio) == (
        s.k, s.candidates, s.dense_weight, s.fusion, s.rrf_k, s.lead_ratio
    )


def test_assistant_retriever_takes_its_fusion_settings(tiny_corpus: Path, settings_for):
    assistant = Assistant.from_settings(
        settings_for(tiny_corpus, dense_weight=0.3, rrf_k=10, lead_ratio=3.0, fusion="convex"), embedder=FakeEmbedder()
    )
    r = assistant.retriever
    assert (r.dense_weight, r.rrf_k, r.lead_ratio, r.fusion) == (0.3, 10, 3.0, "convex")


def test_retrieve_is_the_fusion_of_its_candidates(tiny_corpus: Path, settings_for):
    from assistant.fusion import fuse

    assistant = _indexed(tiny_corpus, settings_for)
    retriever = assistant.retriever
    for query in ("single binary docker images", "admin panel", "requests per second"):
        dense, keyword = retriever.candidates_for(query)
        assert [s for _, s in keyword] == sorted((s for _, s in keyword), reverse=True)
        expected = fuse(
            [(c.id, s) for c, s in dense], [(c.id, s) for c, s in keyword], 3,
            method="rrf", dense_weight=retriever.dense_weight, rrf_k=retriever.rrf_k, lead_ratio=retriever.lead_ratio,
        )
        passages = assistant.retrieve(query, k=3)
        assert [(p.chunk_id, p.score) for p in passages] == expected
        by_id = {c.id: s for c, s in keyword}
        assert all(p.keyword_score == by_id.get(p.chunk_id) for p in passages)


def test_retrieve_within_sources_fuses_only_their_chunks(tiny_corpus: Path, settings_for):
    assistant = _indexed(tiny_corpus, settings_for)
    passages = assistant.retrieve("requests per second and memory safety", k=5, sources=["python.md"])
    assert passages and {p.source for p in passages} == {"python.md"}
    assert assistant.retriever.candidates_for("anything", sources=[]) == ([], [])


def test_settings_reject_bad_fusion_values():
    import pytest

    from assistant.settings import Settings
    from corpus.errors import AssistantError

    for bad, match in (({"lead_ratio": 0.9}, "lead_ratio"), ({"fusion": "max"}, "fusion"), ({"rrf_k": -1}, "rrf_k")):
        with pytest.raises(AssistantError, match=match):
            Settings(**bad).validated()


def test_keyword_index_keeps_versions_and_language_names_as_words():
    from corpus.chunking import chunk_article
    from corpus.models import Article
    from index.keyword import tokenize_query

    assert tokenize_query("What changed in v1.6.8 of C++ and C#, and in GPT-3.5?") == ["chang", "1.6.8", "c++", "c#", "gpt", "3.5"]
    notes = Article("notes.md", "Release notes", "## 1.6.8\n\nFixed a crash at the resort.\n\n## 1.6.7\n\nFixed a crash at the mines.\n\n"
                    "## 1.6.6\n\nFixed a crash at the farm.")
    index = KeywordIndex()
    index.build(chunk_article(notes))
    best, _ = index.search("Which crash was fixed in 1.6.7?", 1)[0]
    assert best.section == "1.6.7"  # before, "1.6.7" was no token at all and the three tied


def test_tokens_in_one_call_are_the_tokens_one_at_a_time(monkeypatch):
    import index.keyword as kw

    texts = ["Gin and Fiber lead Go's web frameworks.", "", "the of and", "v1.6.8 of C++ and C#", "Gin and Fiber lead Go's web frameworks.",
             "Actix Web tops the TechEmpower benchmarks."]
    one_at_a_time = [kw._tokenize([t])[0] for t in texts]
    monkeypatch.setattr(kw, "_MEMO", {})
    calls = []
    real = kw._tokenize
    monkeypatch.setattr(kw, "_tokenize", lambda batch: calls.append(list(batch)) or real(batch))
    assert kw.tokenize_many(texts) == one_at_a_time
    assert len(calls) == 1 and len(calls[0]) == 5  # the repeat is tokenized once
    assert [kw.tokenize_query(t) for t in texts] == one_at_a_time and len(calls) == 1  # remembered
    kw.tokenize_query(texts[0]).append("mutated")
    assert kw.tokenize_query(texts[0]) == one_at_a_time[0]  # callers get their own list
    monkeypatch.setattr(kw, "_MEMO_SIZE", 3)
    assert kw.tokenize_many(["a new sentence about Django", "another about Flask"]) == [real([s])[0] for s in
                                                                                    ["a new sentence about Django", "another about Flask"]]
    assert len(kw._MEMO) == 2  # full: emptied, then filled with the new ones


_PAPER = """## 1 Introduction

Retrieval-augmented generation (RAG) helps large language models answer from documents. This survey of RAG covers RAG retrieval, \
RAG generation and RAG evaluation, and the self-assessment, self-critique and self-checking that RAG systems do of themselves.

## 2 Filtering

Self-RAG introduces a reflection mechanism that uses critique tokens to filter out irrelevant passages before generation.

## 3 Retrieval quality

Cuconasu et al. (2024) found that adding irrelevant documents to the retrieved ones can improve the accuracy of the generator.

## References

Florin Cuconasu, Giovanni Trappolini, Federico Siciliano, and Fabrizio Silvestri. 2024. The Power of Noise: Redefining Retrieval \
for RAG Systems. arXiv, abs/2401.14887.

Akari Asai, Zeqiu Wu, Yizhong Wang, Avirup Sil, and Hannaneh Hajishirzi. 2023. Self-RAG: Learning to Retrieve, Generate, and \
Critique through Self-Reflection. arXiv, abs/2310.11511.
"""


def test_a_reference_list_gives_way_to_prose_and_a_hyphenated_name_finds_its_passage(tmp_path: Path, settings_for, real_embedder):
    from conftest import write_article
    from corpus.text import reads_as_references

    folder = tmp_path / "papers"
    folder.mkdir()
    write_article(folder, "survey.md", "A Survey on RAG", _PAPER)
    assistant = Assistant.from_settings(settings_for(folder, chunk_max_chars=400, chunk_overlap_chars=0), embedder=real_embedder)
    assistant.index()
    retriever = assistant.retriever
    assert {c.section for c in retriever.keyword._chunks if reads_as_references(c.text)} == {"References"}
    # BM25 finds "Power of Noise" word for word in the reference list only; the candidates leave the list out
    question = "What did the Power of Noise paper find?"
    assert retriever.keyword.search(question, 5)[0][0].section == "References"
    dense, keyword = retriever.candidates_for(question)
    assert all(c.section != "References" for c, _ in dense + keyword)
    assert assistant.retrieve(question, k=1)[0].section == "3 Retrieval quality"
    # asked about the references, they are there to be found
    assert any(c.section == "References" for c, _ in retriever.candidates_for("Which arXiv papers are in the references?")[1])
    # "self" and "RAG" are all over the introduction; "Self-RAG" whole is in the filtering section: its best chunk leads BM25's list
    question = "What is Self-RAG for in this survey?"
    assert retriever.keyword.search(question, 5)[0][0].section == "1 Introduction"
    assert retriever.candidates_for(question)[1][0][0].section == "2 Filtering"
