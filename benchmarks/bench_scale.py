"""``make bench-scale``: memory and speed of indexing a corpus ten times SciFact's size.

No larger real corpus is at hand, so one is made from SciFact deterministically
(``synthetic_articles``): copy 0 is SciFact itself; copy ``i`` >= 1 of each abstract gets the id
``<id>~c<i>``, the title ``<title> (copy i)`` and its sentences rotated left by ``i`` (modulo
their number). Chunk ids hash the source, so no two chunks share an id (the indexer would
otherwise treat them as one), and the title is part of what is embedded and keyword-indexed,
so no two chunks share an embedding text either. ``--copies 10`` gives 51,830 documents.

The real pipeline indexes it (``build_components`` + ``Indexer.sync``, embedded Chroma and BM25
in a temporary folder) while a thread samples this process's RSS (``VmRSS``) every 0.5 s. The
``fake`` embedder (sha256-seeded bag of words, 384 dimensions, no model) measures the store and
keyword side quickly; ``torch`` and ``onnx`` are the product's embedders, built by
``build_components`` as the product builds them (with the torch backend, questions go to the
fp32 ONNX export). Printed: documents, chunks, seconds, chunks/s, RSS after the model load
(baseline), peak RSS, RSS growth per 10k chunks while embedding, the Chroma folder's size on
disk and warm retrieval latency p50. Not part of the installed package.

    python -m benchmarks.bench_scale [--corpus ../shared/bench/scifact] [--copies 10]
                                     [--embedder fake|torch|onnx] [--queries 100] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script too

from corpus.models import Article  # noqa: E402
from corpus.text import sentence_spans  # noqa: E402

__all__ = ["HashEmbedder", "RssSampler", "main", "run_scale", "synthetic_articles"]

DEFAULT_CORPUS = REPO.parent / "shared" / "bench" / "scifact"
EMBEDDERS = ("fake", "torch", "onnx")


def synthetic_articles(base: Sequence[Article], copies: int) -> list[Article]:
    """``copies`` x ``base``: copy 0 unchanged, copy ``i`` with a distinct id and title and its
    sentences rotated by ``i``. Pure and deterministic."""
    if copies < 1:
        raise ValueError(f"copies must be at least 1. Currently, copies is {copies}")
    out = list(base)
    for i in range(1, copies):
        for a in base:
            spans = sentence_spans(a.text)
            sentences = [a.text[s:e] for s, e in spans] or [a.text]
            r = i % len(sentences)
            text = " ".join(sentences[r:] + sentences[:r])
            out.append(replace(a, source=f"{a.source}~c{i}", title=f"{a.title} (copy {i})", text=text))
    return out


class HashEmbedder:
    """Deterministic, model-free: each word adds four sha256-chosen +-1 components; L2-normed.
    Shared words give similar vectors, so retrieval over it is not random."""

    model_id = "fake-sha256-384"

    def __init__(self, dimension: int = 384):
        self.dimension = dimension

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            d = hashlib.sha256(word.encode()).digest()
            for j in range(4):
                v[int.from_bytes(d[2 * j : 2 * j + 2], "little") % self.dimension] += 1.0 if d[8 + j] & 1 else -1.0
        norm = sum(x * x for x in v) ** 0.5 or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _mib(kib: float) -> float:
    return kib / 1024


class RssSampler:
    """Samples ``VmRSS`` of this process every ``interval`` seconds in a daemon thread."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.samples: list[tuple[float, int]] = []  # (seconds since start, KiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._t0 = time.perf_counter()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._t0, _rss_kib()))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter() - self._t0, _rss_kib()))

    @property
    def peak_kib(self) -> int:
        return max((kib for _, kib in self.samples), default=0)


def _disk_bytes(folder: Path) -> int:
    """Bytes allocated on disk under ``folder`` (like ``du``)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def _growth_per_10k(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of RSS (KiB) over chunks embedded, in MiB per 10,000 chunks."""
    if len(points) < 2:
        return 0.0
    xs = [float(x) for x, _ in points]
    ys = [float(y) for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return _mib(slope * 10_000)


def run_scale(
    corpus: Path,
    copies: int,
    embedder: str = "fake",
    queries: int = 100,
    docs: int = 0,
    batch_size: int = 32,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Index ``copies`` x the BEIR corpus at ``corpus`` (its first ``docs`` documents if > 0)
    with the real pipeline in a temporary folder; RSS, speed, size on disk and latency.
    ``log`` gets a line every 5,000 chunks embedded (so a run stopped early still tells)."""
    from assistant.beir import load_beir
    from assistant.core import Assistant
    from assistant.factory import build_components
    from assistant.settings import Settings
    from index.offline import ensure_offline

    if embedder not in EMBEDDERS:
        raise ValueError(f"embedder must be one of {', '.join(EMBEDDERS)}. Currently, embedder is {embedder!r}")
    ensure_offline()
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-scale-"))
    out: dict[str, Any] = {"embedder": embedder, "copies": copies, "cpus": os.cpu_count()}
    try:
        with RssSampler() as sampler:
            out["rss_start_mib"] = _mib(_rss_kib())
            settings = Settings(
                data_dir=work / "data",
                corpus_dir=work / "corpus",
                collection="scale",
                embed_batch_size=batch_size,
                embed_backend="onnx" if embedder == "onnx" else "torch",
            )
            # as the product builds them: torch/onnx come with their query embedder (the fp32
            # ONNX export for torch); warm both so their memory is in the baseline
            components = build_components(settings, embedder=HashEmbedder() if embedder == "fake" else None)
            components.embedder.embed_documents(["warm-up"])
            components.query_embedder.embed_query("warm-up")
            out["rss_after_model_mib"] = _mib(_rss_kib())

            data = load_beir(corpus)
            base = data.articles[:docs] if docs > 0 else data.articles
            articles = synthetic_articles(base, copies)
            questions = list(data.queries.values())[: max(1, queries)]
            del data, base
            out["documents"] = len(articles)
            out["rss_after_corpus_mib"] = _mib(_rss_kib())

            points: list[tuple[int, int]] = []
            marks: dict[str, float] = {}

            started = time.perf_counter()

            def progress(done: int, total: int) -> None:
                points.append((done, _rss_kib()))
                if log and (done // 5000 > (points[-2][0] if len(points) > 1 else 0) // 5000 or done == total):
                    log(f"{done}/{total} chunks embedded, {time.perf_counter() - started:.0f} s, RSS {_mib(points[-1][1]):.0f} MiB")

            def checkpoint(name: str) -> None:
                if name != "embedded":
                    marks[name] = _mib(_rss_kib())

            components.indexer.checkpoint = checkpoint
            report = components.indexer.sync(articles, progress=progress)
            out["chunks"] = report.chunks
            out["index_s"] = report.seconds
            out["chunks_per_s"] = report.embedded / report.seconds if report.seconds else 0.0
            # skip the first tenth: the store's first writes allocate its caches
            steady = points[len(points) // 10 :]
            out["rss_growth_mib_per_10k_chunks"] = _growth_per_10k(steady)
            out["rss_after_embedding_mib"] = marks.get("written", 0.0)
            out["rss_after_keyword_mib"] = marks.get("done", 0.0)
            out["index_peak_rss_mib"] = _mib(max(sampler.peak_kib, _rss_kib()))
            out["chroma_disk_mib"] = _disk_bytes(settings.chroma_path) / 2**20
            out["keyword_disk_mib"] = _disk_bytes(settings.keyword_path) / 2**20

            assistant = Assistant(components)
            for q in questions[:5]:
                assistant.retrieve(q)
            out["rss_after_reader_open_mib"] = _mib(_rss_kib())
            timings = []
            for q in questions:
                t0 = time.perf_counter()
                assistant.retrieve(q)
                timings.append((time.perf_counter() - t0) * 1000)
            out["retrieval_ms_p50"] = statistics.median(timings)
            out["latency_queries"] = len(timings)
        out["peak_rss_mib"] = _mib(sampler.peak_kib)  # includes a last sample taken on exit
        out["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        step = max(1, len(sampler.samples) // 200)
        out["rss_timeline_mib"] = [[round(t, 1), round(_mib(k))] for t, k in sampler.samples[::step]]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _lines(r: dict[str, Any]) -> list[str]:
    return [
        f"{r['copies']} x SciFact, embedder {r['embedder']}: {r['documents']} documents, {r['chunks']} chunks ({r['cpus']} CPUs)",
        f"indexing:                        {r['index_s']:.1f} s, {r['chunks_per_s']:.0f} chunks/s",
        f"RSS after the model load:        {r['rss_after_model_mib']:.0f} MiB (baseline)",
        f"RSS with the corpus in memory:   {r['rss_after_corpus_mib']:.0f} MiB",
        f"RSS growth while embedding:      {r['rss_growth_mib_per_10k_chunks']:.1f} MiB per 10k chunks",
        f"RSS after embedding / keyword:   {r['rss_after_embedding_mib']:.0f} / {r['rss_after_keyword_mib']:.0f} MiB",
        f"peak RSS while indexing:         {r['index_peak_rss_mib']:.0f} MiB",
        f"RSS with a reader open:          {r['rss_after_reader_open_mib']:.0f} MiB",
        f"peak RSS of the run:             {r['peak_rss_mib']:.0f} MiB (getrusage {r['ru_maxrss_mib']:.0f} MiB)",
        f"on disk:                         Chroma {r['chroma_disk_mib']:.0f} MiB, BM25 {r['keyword_disk_mib']:.0f} MiB",
        f"warm retrieval p50:              {r['retrieval_ms_p50']:.1f} ms over {r['latency_queries']} queries",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="BEIR folder (default: ../shared/bench/scifact)")
    parser.add_argument("--copies", type=int, default=10, help="copies of the corpus (default 10: 51,830 documents)")
    parser.add_argument("--embedder", choices=EMBEDDERS, default="fake")
    parser.add_argument("--docs", type=int, default=0, help="only the first N documents of the corpus (0: all)")
    parser.add_argument("--queries", type=int, default=100, help="queries timed for latency")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    # a long run stopped with `kill` still removes its temporary folder
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    result = run_scale(args.corpus, args.copies, args.embedder, args.queries, args.docs, args.batch_size, log=log)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print("\n".join(_lines(result)))


if __name__ == "__main__":
    main()
