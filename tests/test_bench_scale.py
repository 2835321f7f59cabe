"""The scale benchmark: its synthetic corpus is deterministic and collision-free, and a small run
through the real pipeline (embedded Chroma, BM25) with the fake embedder reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.bench_scale import HashEmbedder, main, run_scale, synthetic_articles
from corpus.chunking import chunk_article
from corpus.models import Article

_SENTENCES = [
    "Statins lower cholesterol in adults.",
    "The trial enrolled 400 patients over two years.",
    "Side effects were rare and mild.",
    "Muscle pain was the most common complaint.",
]


def _base() -> list[Article]:
    long_text = " ".join(_SENTENCES * 8)  # several chunks
    return [
        Article(source="1", title="Statins and cholesterol", text=" ".join(_SENTENCES)),
        Article(source="2", title="One sentence", text="Vitamin D does not prevent fractures."),
        Article(source="3", title="A long abstract", text=long_text),
    ]


def test_synthetic_articles_with_three_copies_are_deterministic_and_collision_free():
    made = synthetic_articles(_base(), 3)
    again = synthetic_articles(_base(), 3)
    chunks = [c for a in made for c in chunk_article(a, 800, 200)]

    assert made == again
    assert len(made) == 9 and made[:3] == _base()
    assert len({a.source for a in made}) == 9
    assert len({a.hash for a in made}) == 9
    assert len({c.id for c in chunks}) == len(chunks) > 9
    assert len({c.embedding_text() for c in chunks}) == len(chunks)
    copy2 = made[6]
    assert (copy2.source, copy2.title) == ("1~c2", "Statins and cholesterol (copy 2)")
    assert copy2.text == " ".join(_SENTENCES[2:] + _SENTENCES[:2])


def test_synthetic_articles_with_zero_copies_raises_naming_the_value():
    with pytest.raises(ValueError, match="Currently, copies is 0"):
        synthetic_articles(_base(), 0)


def test_hash_embedder_gives_normalised_deterministic_384_dim_vectors():
    e = HashEmbedder()
    a, b = e.embed_documents(["statins lower cholesterol", "statins lower cholesterol"])
    assert a == b == e.embed_query("statins lower cholesterol") and len(a) == 384
    assert abs(sum(x * x for x in a) - 1.0) < 1e-9


def _beir_folder(folder: Path, docs: int) -> Path:
    folder.mkdir()
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for i in range(docs):
            text = " ".join(f"Finding {j} of study {i} concerns {_SENTENCES[(i + j) % 4].lower()}" for j in range(6))
            fh.write(json.dumps({"_id": str(i), "title": f"Study {i}", "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as fh:
        for q in range(4):
            fh.write(json.dumps({"_id": f"q{q}", "text": f"Does study {q} concern statins?"}) + "\n")
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q{q}\t{q}\t1\n" for q in range(4)))
    return folder


def test_run_scale_with_fake_embedder_on_a_small_corpus_indexes_every_copy(tmp_path):
    result = run_scale(_beir_folder(tmp_path / "beir", 50), copies=4, embedder="fake", queries=4)

    assert result["documents"] == 200
    assert result["chunks"] >= 200
    assert result["latency_queries"] == 4 and result["retrieval_ms_p50"] > 0
    assert result["chunks_per_s"] > 0 and result["chroma_disk_mib"] > 0
    assert 0 < result["rss_after_model_mib"] <= result["index_peak_rss_mib"] <= result["peak_rss_mib"]
    assert result["rss_timeline_mib"]


def test_main_with_json_prints_the_figures(tmp_path, capsys):
    main(["--corpus", str(_beir_folder(tmp_path / "beir", 20)), "--copies", "2", "--queries", "2", "--json"])
    printed = json.loads(capsys.readouterr().out)

    assert printed["documents"] == 40 and printed["embedder"] == "fake"
    assert {"peak_rss_mib", "rss_growth_mib_per_10k_chunks", "index_s", "chunks"} <= printed.keys()


def test_shape_scale_benchmark_runs_end_to_end_on_a_small_slice():
    from benchmarks.shape_scale import QUESTIONS, run

    out = run(40, 1)
    assert out["articles"] == 40 and out["points"] > 0
    assert set(out["questions"]) == set(QUESTIONS)
    assert all(r["warm_p50_s"] > 0 and r["shape"] == "collection" for r in out["questions"].values())
