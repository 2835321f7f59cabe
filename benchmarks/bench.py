"""``make bench``: speed of the pipeline next to the hardware limit, from one run on SciFact.

Prints indexing throughput of the pipeline (chunks/s) next to raw ``SentenceTransformer.encode``
on the same chunk texts, for the torch and the int8 ONNX embedders; re-index time with nothing
changed; warm retrieval and extractive-answer latency (p50/p95); time from command to a ready
UI; peak RSS. Everything runs in temporary folders; nothing of the user's index is touched.
The chunking is the product's (``Settings``). Not part of the installed package.

    python -m benchmarks.bench [--corpus ../shared/bench/scifact] [--docs N] [--queries N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.processes import stop, wait_for_http

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script too

__all__ = ["main", "run_bench"]

DEFAULT_CORPUS = REPO.parent / "shared" / "bench" / "scifact"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _index(settings: Any, articles: list[Any], embedder: Any) -> tuple[Any, Any]:
    from assistant.factory import build_components

    components = build_components(settings, embedder=embedder)
    report = components.indexer.sync(articles)
    return components, report


def _raw_encode(texts: list[str], batch_size: int) -> float:
    """Seconds for the packaged model's own ``SentenceTransformer.encode`` on ``texts``."""
    from sentence_transformers import SentenceTransformer

    from index.embedding import packaged_model_path

    model = SentenceTransformer(packaged_model_path(), device="cpu", local_files_only=True)
    model.encode(texts[:64], batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return time.perf_counter() - started


def _peak_rss_of(pid: int) -> float | None:
    """A live process's peak RSS (VmHWM) in MiB; None where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _ui_ready_seconds(data_dir: Path, corpus_dir: Path, timeout: float = 120.0) -> tuple[float, float | None]:
    """Wall time from `assistant ui` to the first HTTP 200 of its page, and the UI process's
    own peak RSS then (its VmHWM: getrusage's figure for children also counts the moment the
    child, before exec, shared this big process's pages)."""
    port = _free_port()
    exe = Path(sys.executable).parent / "assistant"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant"]
    env = {**os.environ, "ASSISTANT_DATA": str(data_dir), "ASSISTANT_CORPUS": str(corpus_dir)}
    proc = subprocess.Popen([*cmd, "ui", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seconds = wait_for_http(f"http://127.0.0.1:{port}/", proc, timeout, lambda why: RuntimeError(f"`assistant ui` {why}"))
        return seconds, _peak_rss_of(proc.pid)
    finally:
        stop(proc)


def _latency(assistant: Any, questions: list[str]) -> dict[str, float]:
    """Warm p50/p95 of ``retrieve`` and of ``ask`` (extractive), on disjoint halves of
    ``questions`` so no question's vector is already cached when it is timed."""
    for q in questions[:5]:
        assistant.ask(q)
    engine = assistant.engine
    scoring: list[tuple[int, float]] = []  # (sentences, ms) of each answer's sentence scoring
    measured = engine.similarities

    def timed(query: str, sentences: list[str]) -> Any:
        t0 = time.perf_counter()
        try:
            return measured(query, sentences)
        finally:
            scoring.append((len(sentences), (time.perf_counter() - t0) * 1000))

    engine.similarities = timed
    retrieval, answer = [], []
    try:
        for i, q in enumerate(questions[5:]):
            t0 = time.perf_counter()
            if i % 2:
                assistant.ask(q)
                answer.append((time.perf_counter() - t0) * 1000)
            else:
                assistant.retrieve(q)
                retrieval.append((time.perf_counter() - t0) * 1000)
    finally:
        del engine.similarities
    r50, r95 = _percentiles(retrieval)
    a50, a95 = _percentiles(answer)
    return {"retrieval_ms_p50": r50, "retrieval_ms_p95": r95, "answer_ms_p50": a50, "answer_ms_p95": a95,
            "answer_sentences_mean": statistics.mean(n for n, _ in scoring) if scoring else 0.0,
            "answer_scoring_ms_p50": statistics.median(ms for _, ms in scoring) if scoring else 0.0}


def run_bench(corpus: Path, docs: int, queries: int, batch_size: int = 32, ui: bool = True) -> dict[str, Any]:
    from assistant.beir import load_beir
    from assistant.core import Assistant
    from assistant.factory import build_components, build_embedder, build_query_embedder
    from assistant.settings import Settings
    from corpus.chunking import chunk_article
    from index.embedding import Bf16Embeddings
    from index.offline import ensure_offline

    ensure_offline()
    data = load_beir(corpus)
    articles = list(data.articles[:docs] if docs else data.articles)
    chunking = Settings()
    texts = [c.embedding_text() for a in articles for c in chunk_article(a, chunking.chunk_max_chars, chunking.chunk_overlap_chars)]
    out: dict[str, Any] = {"corpus": data.name, "documents": len(articles), "chunks": len(texts), "cpus": os.cpu_count()}

    raw_seconds = _raw_encode(texts, batch_size)
    out["raw_encode_chunks_per_s"] = len(texts) / raw_seconds

    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    try:
        base = Settings(data_dir=work / "torch", embed_batch_size=batch_size, collection="bench")
        torch_embedder = build_embedder(base)
        torch_embedder.embed_query("warm-up")
        components, report = _index(base, articles, torch_embedder)
        out["pipeline_torch_chunks_per_s"] = report.embedded / report.seconds
        out["pipeline_torch_ratio"] = out["pipeline_torch_chunks_per_s"] / out["raw_encode_chunks_per_s"]

        again = components.indexer.sync(articles)
        out["reindex_unchanged_embedded"] = again.embedded
        out["reindex_unchanged_s"] = again.seconds
        # a fresh process's view of it: open the store and check it against the corpus
        reopened = build_components(base, embedder=torch_embedder)
        started = time.perf_counter()
        cold = reopened.indexer.sync(articles)
        out["reindex_unchanged_fresh_s"] = time.perf_counter() - started
        out["reindex_unchanged_fresh_embedded"] = cold.embedded

        fp32_settings = base.with_(data_dir=work / "fp32", embed_precision="fp32")
        fp32_embedder = build_embedder(fp32_settings)
        fp32_embedder.embed_query("warm-up")
        _, fp32_report = _index(fp32_settings, articles, fp32_embedder)
        out["pipeline_fp32_chunks_per_s"] = fp32_report.embedded / fp32_report.seconds
        out["pipeline_fp32_ratio"] = out["pipeline_fp32_chunks_per_s"] / out["raw_encode_chunks_per_s"]
        out["torch_precision"] = "bf16" if isinstance(getattr(torch_embedder, "inner", None), Bf16Embeddings) else "fp32"

        onnx_settings = base.with_(data_dir=work / "onnx", embed_backend="onnx")
        started = time.perf_counter()
        onnx_embedder = build_embedder(onnx_settings)  # built into the model cache at first use
        out["onnx_model_ready_s"] = time.perf_counter() - started
        onnx_embedder.embed_query("warm-up")
        _, onnx_report = _index(onnx_settings, articles, onnx_embedder)
        out["pipeline_onnx_chunks_per_s"] = onnx_report.embedded / onnx_report.seconds
        out["pipeline_onnx_ratio"] = out["pipeline_onnx_chunks_per_s"] / out["raw_encode_chunks_per_s"]

        # warm latency through the public API on the torch-built index: as the product runs it
        # (questions and answer sentences by the fp32 ONNX query model), then with torch queries
        questions = [q for q in data.queries.values()][: max(12, queries) + 5]
        query_embedder = build_query_embedder(base, torch_embedder)
        product = Assistant(build_components(base, embedder=torch_embedder, query_embedder=query_embedder))
        out.update(_latency(product, questions))
        torch_only = Assistant(build_components(base, embedder=torch_embedder))
        out.update({f"torch_query_{k}": v for k, v in _latency(torch_only, questions).items()})
        out["latency_queries"] = len(questions) - 5
        out["peak_rss_mib"] = _peak_rss_mib()

        if ui:
            from corpus.loaders import load_corpus

            ui_settings = Settings(data_dir=work / "ui")
            ui_components = build_components(ui_settings, embedder=torch_embedder)
            ui_components.indexer.sync(list(load_corpus(ui_settings.corpus_dir).articles))
            out["ui_ready_s"], out["ui_peak_rss_mib"] = _ui_ready_seconds(ui_settings.data_dir, ui_settings.corpus_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _lines(r: dict[str, Any]) -> list[str]:
    lines = [
        f"corpus: {r['corpus']}, {r['documents']} documents, {r['chunks']} chunks, {r['cpus']} CPUs",
        f"raw SentenceTransformer.encode:      {r['raw_encode_chunks_per_s']:7.1f} chunks/s  (1.00x, the torch limit)",
        f"pipeline indexing, torch (default, {r['torch_precision']}): {r['pipeline_torch_chunks_per_s']:5.1f} chunks/s  ({r['pipeline_torch_ratio']:.2f}x raw)",
        f"pipeline indexing, torch fp32:       {r['pipeline_fp32_chunks_per_s']:7.1f} chunks/s  ({r['pipeline_fp32_ratio']:.2f}x raw)",
        f"pipeline indexing, int8 ONNX:        {r['pipeline_onnx_chunks_per_s']:7.1f} chunks/s  ({r['pipeline_onnx_ratio']:.2f}x raw; model ready in {r['onnx_model_ready_s']:.1f} s)",
        f"re-index, nothing changed:           {r['reindex_unchanged_embedded']} embedded, {r['reindex_unchanged_s']:.2f} s "
        f"(freshly opened store: {r['reindex_unchanged_fresh_embedded']} embedded, {r['reindex_unchanged_fresh_s']:.2f} s)",
        f"retrieval latency (warm, {r['latency_queries'] // 2} queries): p50 {r['retrieval_ms_p50']:.1f} ms, p95 {r['retrieval_ms_p95']:.1f} ms"
        f"  (torch queries: p50 {r['torch_query_retrieval_ms_p50']:.1f} ms, {r['torch_query_retrieval_ms_p50'] / r['retrieval_ms_p50']:.1f}x slower)",
        f"extractive answer latency (warm):    p50 {r['answer_ms_p50']:.1f} ms, p95 {r['answer_ms_p95']:.1f} ms"
        f"  (torch: p50 {r['torch_query_answer_ms_p50']:.1f} ms, {r['torch_query_answer_ms_p50'] / r['answer_ms_p50']:.1f}x slower)",
        f"  of which scoring sentences:        p50 {r['answer_scoring_ms_p50']:.1f} ms for {r['answer_sentences_mean']:.1f} candidate sentences (mean; vectors cached per process)",
    ]
    if "ui_ready_s" in r:
        rss = f"{r['ui_peak_rss_mib']:.0f} MiB" if r.get("ui_peak_rss_mib") else "not available"
        lines.append(f"command to ready UI:                 {r['ui_ready_s']:.1f} s (UI process peak RSS {rss})")
    lines.append(f"peak RSS of this run:                {r['peak_rss_mib']:.0f} MiB")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="BEIR folder (default: ../shared/bench/scifact)")
    parser.add_argument("--docs", type=int, default=0, help="only the first N documents (0: all)")
    parser.add_argument("--queries", type=int, default=200, help="queries timed for latency")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-ui", action="store_true", help="skip the UI start-up measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run_bench(args.corpus, args.docs, args.queries, args.batch_size, ui=not args.no_ui)
    print(json.dumps(result, indent=1) if args.json else "\n".join(_lines(result)))


if __name__ == "__main__":
    main()
