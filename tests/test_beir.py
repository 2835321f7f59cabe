"""``assistant eval --beir``: loading a BEIR folder, scoring, and the proof that it measures
the retriever ``assistant ask`` uses (a tiny synthetic BEIR folder written by the tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.beir import beir_collection_name, beir_settings, doc_scores, evaluate_run, load_beir, run_beir
from assistant.core import Assistant
from assistant.models import Passage
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from corpus.errors import AssistantError
from index.embedding import DEFAULT_MODEL

from conftest import FakeEmbedder

_FILLER = " ".join(
    f"Sentence {i} describes routine laboratory handling of samples, buffers and storage at low temperature."
    for i in range(40)
)

DOCS = [
    {"_id": "d1", "title": "Vitamin D and bone density", "text": "Vitamin D supplements increase bone mineral density in elderly women."},
    {"_id": "d2", "title": "Statins", "text": "Statin therapy lowers LDL cholesterol and reduces cardiovascular events."},
    {"_id": "d3", "title": "Sleep and memory", "text": "Slow-wave sleep consolidates declarative memory in adolescents."},
    # a long document: its relevant sentence lies far beyond the model's 256 tokens
    {"_id": "d4", "title": "A long methods paper", "text": _FILLER + " Finally, zebrafish fin regeneration requires osteoblast dedifferentiation."},
    {"_id": "d5", "title": "Coffee", "text": "Coffee consumption is associated with lower risk of type 2 diabetes."},
]
QUERIES = [
    {"_id": "q1", "text": "Does vitamin D improve bone density?"},
    {"_id": "q2", "text": "statins reduce cardiovascular events"},
    {"_id": "q3", "text": "zebrafish fin regeneration osteoblast dedifferentiation"},
    {"_id": "q4", "text": "a query without judgements"},
]
QRELS = [("q1", "d1"), ("q2", "d2"), ("q3", "d4")]


def write_beir(folder: Path, docs: list[dict] = DOCS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in QRELS))
    return folder


def _passage(source: str, score: float) -> Passage:
    return Passage(chunk_id=f"{source}-{score}", text="x", title="", source=source, section="", score=score, start=0, end=1)


def test_load_beir_keeps_only_judged_queries(tmp_path):
    data = load_beir(write_beir(tmp_path / "tiny"))
    assert [a.source for a in data.articles] == ["d1", "d2", "d3", "d4", "d5"]
    assert data.articles[0].title == "Vitamin D and bone density"
    assert set(data.queries) == {"q1", "q2", "q3"}
    assert data.qrels["q3"] == {"d4": 1}
    assert data.name == "tiny" and len(data.corpus_hash) == 64


def test_load_beir_missing_qrels_raises_assistant_error(tmp_path):
    folder = write_beir(tmp_path / "tiny")
    (folder / "qrels.tsv").unlink()
    with pytest.raises(AssistantError, match="qrels.tsv is missing"):
        load_beir(folder)


def test_load_beir_bad_corpus_line_names_file_and_line(tmp_path):
    folder = write_beir(tmp_path / "tiny")
    (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": "ok"}\n{not json\n')
    with pytest.raises(AssistantError, match=r"corpus.jsonl:2"):
        load_beir(folder)


def test_beir_collection_name_changes_with_corpus_chunking_and_model(tmp_path):
    a = load_beir(write_beir(tmp_path / "a"))
    b = load_beir(write_beir(tmp_path / "b", DOCS[:3]))
    s = Settings()
    assert beir_collection_name(a, s, "m") == beir_collection_name(a, s, "m")
    assert beir_collection_name(a, s, "m") != beir_collection_name(b, s, "m")
    assert beir_collection_name(a, s, "m") != beir_collection_name(a, s.with_(chunk_max_chars=400), "m")
    assert beir_collection_name(a, s, "m") != beir_collection_name(a, s, "other-model")


def test_beir_settings_change_only_the_data_folder_collection_knowledge_and_engine(tmp_path):
    data = load_beir(write_beir(tmp_path / "tiny"))
    s = Settings(data_dir=tmp_path / "data", engine="local", candidates=40, fusion="convex", dense_weight=0.3)
    b = beir_settings(s, data, model="m")
    assert b.data_dir == tmp_path / "data" / "beir" and b.collection == beir_collection_name(data, s, "m")
    assert (b.knowledge, b.engine) == (False, "extractive")
    retrieval = ("k", "candidates", "dense_weight", "rrf_k", "fusion", "lead_ratio", "chunk_max_chars",
                 "chunk_overlap_chars", "embed_backend", "query_backend", "embed_precision")
    assert {n: getattr(b, n) for n in retrieval} == {n: getattr(s, n) for n in retrieval}


def test_doc_scores_takes_each_documents_best_passage():
    assert doc_scores([_passage("a", 0.2), _passage("b", 0.5), _passage("a", 0.9)]) == {"a": 0.9, "b": 0.5}
    assert doc_scores([]) == {}


def test_evaluate_run_perfect_and_empty_runs():
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    perfect = evaluate_run(qrels, {"q1": {"d1": 1.0, "d9": 0.5}, "q2": {"d2": 1.0}})
    assert perfect == pytest.approx({"ndcg@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0})
    half = evaluate_run(qrels, {"q1": {"d9": 1.0, "d1": 0.5}})  # q2 retrieved nothing
    assert half["mrr@10"] == pytest.approx(0.25)
    assert half["recall@100"] == pytest.approx(0.5)


def test_run_beir_with_no_chunks_raises_naming_the_value(tmp_path):
    with pytest.raises(AssistantError, match="Currently, chunks is 0"):
        run_beir(Settings(data_dir=tmp_path / "data"), write_beir(tmp_path / "tiny"), chunks=0)


def _fake_assistant(settings: Settings, folder: Path) -> Assistant:
    return Assistant.from_settings(beir_settings(settings, load_beir(folder), model=FakeEmbedder.model_id), embedder=FakeEmbedder())


def test_run_beir_and_ask_go_through_the_same_retriever_object(tmp_path, monkeypatch):
    """The proof that eval --beir measures what ask uses: one spy on HybridRetriever.retrieve
    sees the same object, with the same settings, in both."""
    seen: list[tuple[HybridRetriever, int | None]] = []
    real = HybridRetriever.retrieve

    def spy(self, query, k=None, sources=None, dense_weight=None):
        seen.append((self, k))
        return real(self, query, k=k, sources=sources, dense_weight=dense_weight)

    monkeypatch.setattr(HybridRetriever, "retrieve", spy)
    folder = write_beir(tmp_path / "tiny")
    assistant = _fake_assistant(Settings(data_dir=tmp_path / "data"), folder)
    report = run_beir(assistant.settings, folder, assistant, chunks=7)
    by_beir = {id(r) for r, _ in seen}
    seen.clear()
    answer = assistant.ask("Does vitamin D improve bone density?")
    assert answer.citations and seen  # ask retrieved
    assert {id(r) for r, _ in seen} == by_beir and len(by_beir) == 1
    retriever = seen[0][0]
    assert (retriever.candidates, retriever.fusion, retriever.dense_weight) == (
        assistant.settings.candidates, assistant.settings.fusion, assistant.settings.dense_weight)
    assert report.chunks_per_query == 7 and report.queries == 3


def test_run_beir_indexes_once_then_reuses_the_unchanged_corpus_and_times_each_query(tmp_path):
    folder = write_beir(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "data")
    first = run_beir(settings, folder, _fake_assistant(settings, folder))
    assert first.documents == 5 and first.queries == 3
    assert first.chunks > 5  # the long document became several chunks
    assert first.embedded == first.chunks
    assert len(first.query_ms) == 3 and all(ms > 0 for ms in first.query_ms)
    assert first.documents_ranked == 5  # 300 passages asked: every document ranked
    assert set(first.to_dict()) >= {"ndcg@10", "recall@100", "mrr@10", "ms_p50", "ms_p95", "documents_ranked"}
    again = run_beir(settings, folder, _fake_assistant(settings, folder))
    assert again.embedded == 0 and again.metrics == first.metrics


@pytest.mark.slow
def test_run_beir_with_the_real_model_finds_a_long_document_by_its_last_chunk(tmp_path, real_embedder):
    folder = write_beir(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "data")
    run: dict[str, dict[str, float]] = {}
    report = run_beir(settings, folder, run_out=run)
    assert max(run["q3"], key=run["q3"].get) == "d4"
    assert report.metrics["ndcg@10"] > 0.5  # tiny and unambiguous: an alarm, not a tuned figure


@pytest.mark.slow
def test_cli_eval_beir_and_ask_build_the_same_retriever(tmp_path, real_embedder, monkeypatch):
    """Across the two commands: the retriever eval --beir measures is configured exactly as the
    one `ask` gets for the same data folder and collection."""
    from assistant.cli import cli

    built: list[dict] = []
    real_init = HybridRetriever.__init__

    def spy(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        built.append({"store": self.store.collection_name, "embedder": type(self.embedder).__name__,
                      **{n: getattr(self, n) for n in ("k", "candidates", "dense_weight", "fusion", "rrf_k", "lead_ratio")}})

    monkeypatch.setattr(HybridRetriever, "__init__", spy)
    folder = write_beir(tmp_path / "tiny")
    result = CliRunner().invoke(cli, ["eval", "--beir", str(folder), "--data", str(tmp_path / "data"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {"ndcg@10", "recall@100", "mrr@10", "queries", "ms_p50"} <= set(out) and out["queries"] == 3
    collection = beir_collection_name(load_beir(folder), Settings(), DEFAULT_MODEL)
    monkeypatch.setenv("ASSISTANT_COLLECTION", collection)
    asked = CliRunner().invoke(cli, ["ask", "Does vitamin D improve bone density?", "--data", str(tmp_path / "data" / "beir"), "--json"])
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["citations"]
    assert len(built) == 2 and built[0] == built[1] and built[0]["store"] == collection


def test_cli_eval_without_questions_or_beir_is_a_usage_error(tmp_path):
    from assistant.cli import cli

    result = CliRunner().invoke(cli, ["eval", "--data", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "--beir" in result.output
