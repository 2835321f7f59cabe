"""BEIR-format evaluation on a tiny synthetic BEIR folder written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.beir import (
    BeirParams,
    beir_collection_name,
    blend_scores,
    doc_scores,
    document_chunks,
    evaluate_run,
    fuse_docs,
    load_beir,
    rocchio,
    run_beir,
    unit_mean,
)
from assistant.settings import Settings
from corpus.errors import AssistantError
from corpus.models import Chunk

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


def _chunk(source: str, index: int) -> Chunk:
    return Chunk(id=f"{source}-{index}", source=source, title="", section="", text="x", start=0, end=1, index=index)


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


def test_beir_collection_name_changes_with_corpus_and_chunking(tmp_path):
    a = load_beir(write_beir(tmp_path / "a"))
    b = load_beir(write_beir(tmp_path / "b", DOCS[:3]))
    params = BeirParams()
    assert beir_collection_name(a, params, "m") == beir_collection_name(a, params, "m")
    assert beir_collection_name(a, params, "m") != beir_collection_name(b, params, "m")
    assert beir_collection_name(a, params, "m") != beir_collection_name(a, BeirParams(chunk_max_chars=400), "m")


def test_doc_scores_takes_each_documents_best_chunk():
    hits = [(_chunk("a", 0), 0.2), (_chunk("b", 0), 0.5), (_chunk("a", 1), 0.9)]
    assert doc_scores(hits) == {"a": 0.9, "b": 0.5}


def test_fuse_docs_modes_pick_one_side_or_fuse_both():
    dense, keyword = {"a": 0.9, "b": 0.1}, {"b": 7.0, "c": 3.0}
    assert fuse_docs(dense, keyword, BeirParams(mode="dense")) == dense
    assert fuse_docs(dense, keyword, BeirParams(mode="keyword")) == keyword
    fused = fuse_docs(dense, keyword, BeirParams(mode="hybrid", fusion="rrf", rrf_k=0, dense_weight=0.5))
    assert fused == pytest.approx({"a": 0.5, "b": 0.5 / 2 + 0.5, "c": 0.5 / 2})


def test_beir_params_unknown_mode_raises_assistant_error():
    with pytest.raises(AssistantError, match="mode"):
        BeirParams(mode="magic").validated()


def test_blend_scores_weights_both_sides_and_fills_a_missing_side_with_its_lowest():
    coarse, fine = {"a": 0.8, "b": 0.4}, {"a": 0.6, "c": 0.5}
    blended = blend_scores(coarse, fine, 0.25)
    assert blended == pytest.approx({"a": 0.25 * 0.8 + 0.75 * 0.6, "b": 0.25 * 0.4 + 0.75 * 0.5, "c": 0.25 * 0.4 + 0.75 * 0.5})
    assert blend_scores(coarse, {}, 0.5) == coarse


def test_document_chunks_make_one_chunk_of_title_and_whole_text(tmp_path):
    data = load_beir(write_beir(tmp_path / "tiny"))
    chunks = document_chunks(data.articles)
    assert [c.source for c in chunks] == ["d1", "d2", "d3", "d4", "d5"]
    long = chunks[3]
    assert long.text == data.articles[3].text and long.end == len(long.text)
    assert long.embedding_text().startswith("A long methods paper\n")
    assert long.embedding_text().endswith("osteoblast dedifferentiation.")


def test_beir_params_bad_keyword_unit_or_fine_weight_raises_assistant_error():
    with pytest.raises(AssistantError, match="keyword_unit"):
        BeirParams(keyword_unit="sentence").validated()
    with pytest.raises(AssistantError, match="fine_weight"):
        BeirParams(fine_weight=1.5).validated()


def test_beir_params_negative_feedback_raises_assistant_error():
    with pytest.raises(AssistantError, match="feedback_docs"):
        BeirParams(feedback_docs=-1).validated()


def test_unit_mean_averages_then_scales_to_length_one():
    assert unit_mean([[3.0, 0.0], [0.0, 4.0]]) == pytest.approx([0.6, 0.8])
    with pytest.raises(ValueError):
        unit_mean([])


def test_rocchio_moves_the_query_towards_the_feedback_and_keeps_unit_length():
    moved = rocchio([2.0, 0.0], [[0.0, 1.0]], 1.0)
    assert moved == pytest.approx([2**-0.5, 2**-0.5])
    half = rocchio([1.0, 0.0], [[0.0, 1.0], [0.0, 1.0]], 0.5)
    assert half == pytest.approx([2 / 5**0.5, 1 / 5**0.5])


def test_rocchio_without_feedback_or_weight_is_the_unit_query():
    assert rocchio([0.0, 3.0], [], 0.3) == pytest.approx([0.0, 1.0])
    assert rocchio([0.0, 3.0], [[1.0, 0.0]], 0.0) == pytest.approx([0.0, 1.0])


def test_evaluate_run_perfect_and_empty_runs():
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    perfect = evaluate_run(qrels, {"q1": {"d1": 1.0, "d9": 0.5}, "q2": {"d2": 1.0}})
    assert perfect == pytest.approx({"ndcg@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0})
    half = evaluate_run(qrels, {"q1": {"d9": 1.0, "d1": 0.5}})  # q2 retrieved nothing
    assert half["mrr@10"] == pytest.approx(0.25)
    assert half["recall@100"] == pytest.approx(0.5)


@pytest.mark.slow
def test_run_beir_indexes_once_then_reuses_the_unchanged_corpus(tmp_path, real_embedder):
    folder = write_beir(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "data")
    first = run_beir(settings, folder, embedder=real_embedder)
    assert first.documents == 5 and first.queries == 3
    assert first.chunks > 5  # the long document became several chunks
    assert first.embedded == first.chunks
    assert first.metrics["ndcg@10"] == pytest.approx(1.0)  # tiny and unambiguous
    again = run_beir(settings, folder, embedder=real_embedder)
    assert again.embedded == 0 and again.metrics == first.metrics


@pytest.mark.slow
def test_run_beir_dense_side_finds_a_long_document_by_its_last_chunk(tmp_path, real_embedder):
    folder = write_beir(tmp_path / "tiny")
    run: dict[str, dict[str, float]] = {}
    run_beir(Settings(data_dir=tmp_path / "data"), folder, BeirParams(mode="dense"), embedder=real_embedder, run_out=run)
    best = max(run["q3"], key=run["q3"].get)
    assert best == "d4"


@pytest.mark.slow
def test_cli_eval_beir_json_prints_the_three_metrics(tmp_path, real_embedder):
    from assistant.cli import cli

    folder = write_beir(tmp_path / "tiny")
    result = CliRunner().invoke(cli, ["eval", "--beir", str(folder), "--data", str(tmp_path / "data"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {"ndcg@10", "recall@100", "mrr@10", "queries"} <= set(out)
    assert out["queries"] == 3


def test_cli_eval_without_questions_or_beir_is_a_usage_error(tmp_path):
    from assistant.cli import cli

    result = CliRunner().invoke(cli, ["eval", "--data", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "--beir" in result.output
