"""``make bench``'s latency part and its report, on the tiny corpus with the fake embedder
(the figures themselves come from ``make bench``, not from tests)."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.bench import _latency, _lines
from assistant.core import Assistant

from conftest import FakeEmbedder


def test_bench_latency_times_retrieval_and_answers_and_restores_engine(tiny_corpus: Path, settings_for):
    assistant = Assistant.from_settings(settings_for(tiny_corpus), embedder=FakeEmbedder())
    assistant.index()
    engine = assistant.engine
    questions = [f"How do goroutines and channels help, case {i}?" for i in range(5)] + [
        "Which Rust framework tops benchmarks?", "What does FastAPI run out of the box?",
        "Why are Go Docker images small?", "What does the Django admin panel do?",
    ]
    r = _latency(assistant, questions)
    assert 0 < r["retrieval_ms_p50"] <= r["retrieval_ms_p95"]
    assert 0 < r["answer_ms_p50"] <= r["answer_ms_p95"]
    assert r["answer_sentences_mean"] >= 1  # the answers' candidate sentences were counted
    assert 0 < r["answer_scoring_ms_p50"] <= r["answer_ms_p95"]
    assert "similarities" not in vars(engine)  # the timing wrapper is gone afterwards


def test_bench_lines_show_ratios_to_raw_encode():
    r = {
        "corpus": "scifact", "documents": 3, "chunks": 9, "cpus": 2,
        "raw_encode_chunks_per_s": 20.0, "torch_precision": "bf16",
        "pipeline_torch_chunks_per_s": 40.0, "pipeline_torch_ratio": 2.0,
        "pipeline_fp32_chunks_per_s": 18.0, "pipeline_fp32_ratio": 0.9,
        "pipeline_onnx_chunks_per_s": 30.0, "pipeline_onnx_ratio": 1.5, "onnx_model_ready_s": 0.1,
        "reindex_unchanged_embedded": 0, "reindex_unchanged_s": 0.1,
        "reindex_unchanged_fresh_embedded": 0, "reindex_unchanged_fresh_s": 0.2,
        "latency_queries": 10, "retrieval_ms_p50": 5.0, "retrieval_ms_p95": 8.0,
        "torch_query_retrieval_ms_p50": 10.0, "answer_ms_p50": 100.0, "answer_ms_p95": 150.0,
        "torch_query_answer_ms_p50": 150.0, "answer_sentences_mean": 19.5, "answer_scoring_ms_p50": 90.0,
        "peak_rss_mib": 2048.0,
    }
    text = "\n".join(_lines(r))
    assert "(2.00x raw)" in text and "(0.90x raw)" in text and "(1.50x raw" in text
    assert "2.0x slower" in text  # torch queries next to the product's
    assert "19.5 candidate sentences" in text


def test_bench_peak_rss_of_reads_the_child_itself_not_the_parent():
    import subprocess
    import sys

    from benchmarks.bench import _peak_rss_of

    ballast = b"x" * (200 * 1024 * 1024)  # this process is now 200 MiB bigger than its child
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        rss = _peak_rss_of(child.pid)
        assert rss is not None and 1 < rss < 150
    finally:
        child.kill()
        child.wait()
        del ballast
    assert _peak_rss_of(child.pid) is None  # gone
