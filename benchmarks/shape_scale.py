"""Collection-wide answers at 5,000 articles: how long a trend question takes (extractive).

The 5,183 SciFact abstracts (``../shared/bench/scifact``, the first ``--docs`` of them) are
indexed with the real pipeline and its article knowledge in a temporary folder. The bulk
embedder is the sha256 bag-of-words ``HashEmbedder`` (384 dimensions, no model: indexing 5,000
articles with the real model would take most of an hour on two cores); questions and answer
sentences go through the product's real fp32 ONNX query model, so the question-time cost is the
real one (the vectors are not comparable with the hashed ones, so only timing is measured, not
answer quality). Printed: index seconds, points stored, and per question the first (cold) and
median of ``--repeat`` warm latencies.

    .venv/bin/python benchmarks/shape_scale.py [--docs 5000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUESTIONS = (
    "What trends do the articles report?",
    "What are the main themes of the articles?",
    "What do the articles say about cancer?",
    "Do the articles agree about vitamin D?",
    "Which proteins do the articles mention most often?",
)


def run(docs: int, repeat: int) -> dict:
    from benchmarks.bench_scale import HashEmbedder
    from assistant.beir import load_beir
    from assistant.core import Assistant
    from assistant.factory import build_components, build_embedder, build_query_embedder
    from assistant.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="shape-scale-"))
    try:
        settings = Settings(data_dir=work / "data", corpus_dir=work / "corpus", collection="scale")
        query = build_query_embedder(settings, build_embedder(settings))
        components = build_components(settings, embedder=HashEmbedder(), query_embedder=query)
        articles = load_beir(REPO.parent / "shared" / "bench" / "scifact").articles[:docs]
        started = time.perf_counter()
        report = components.indexer.sync(articles)
        out: dict = {"articles": len(articles), "chunks": report.chunks, "points": report.points,
                     "index_s": round(time.perf_counter() - started, 1), "questions": {}}
        assistant = Assistant(components)
        t = time.perf_counter()
        assistant.ask("What is the effect of aspirin on platelets?")  # opens the index, loads the query model
        out["first_factoid_s"] = round(time.perf_counter() - t, 3)
        for q in QUESTIONS:
            times = []
            for _ in range(repeat + 1):
                t = time.perf_counter()
                answer = assistant.ask(q)
                times.append(time.perf_counter() - t)
            out["questions"][q] = {"shape": answer.shape, "refused": answer.refused, "cold_s": round(times[0], 3),
                                   "warm_p50_s": round(statistics.median(times[1:]), 3), "cited_articles": len({c.source for c in answer.citations})}
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = run(args.docs, args.repeat)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['articles']} articles, {out['chunks']} chunks, {out['points']} key points, indexed in {out['index_s']} s; first factoid {out['first_factoid_s'] * 1000:.0f} ms")
    for q, r in out["questions"].items():
        print(f"  {r['shape']:<10} cold {r['cold_s'] * 1000:6.0f} ms  warm p50 {r['warm_p50_s'] * 1000:6.0f} ms  {r['cited_articles']} articles cited  {q}")


if __name__ == "__main__":
    main()
