"""Answer-engine lab: both question sets in one process, engine attributes overridable.

    .venv/bin/python -m benchmarks.answer_lab --data /tmp/lead-data [--set name=value ...]

Prints the dev-set, STICI (scoped) and own-set (benchmarks/data/own) figures side by side, so a change that helps one set
and hurts the other shows at once. Not part of the product.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from assistant.core import Assistant
from assistant.evaluation import load_questions, run_eval
from assistant.qa_eval import qa_data_dir, run_qa
from assistant.settings import Settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
OWN = Path(__file__).resolve().parent / "data" / "own"  # our questions on the documents the train split leaves out


def _assistants(data: Path, engine: str) -> tuple[Assistant, Assistant]:
    base = Settings.from_env(data_dir=str(data), engine=engine)
    dev = Assistant.from_settings(base.with_(data_dir=data / "dev"))
    dev.index(lock_timeout=600)
    docs = SHARED / "eval" / "stici" / "documents"
    stici = Assistant.from_settings(base.with_(corpus_dir=docs, data_dir=qa_data_dir(base, docs)))
    return dev, stici


def _engine_of(assistant: Assistant):
    engine = assistant.engine
    return getattr(engine, "fallback", None) or engine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/lead-data")
    ap.add_argument("--engine", default="extractive")
    ap.add_argument("--set", action="append", default=[], help="engine attribute=value (JSON value)")
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    dev, stici = _assistants(Path(args.data), args.engine)
    for a in (dev, stici):
        for kv in args.set:
            name, value = kv.split("=", 1)
            setattr(_engine_of(a), name, json.loads(value))
    t = time.perf_counter()
    report = run_eval(dev, load_questions(SHARED / "eval" / "dev_questions.jsonl"))
    m = report.metrics
    print(f"dev: correct {m['answer_correctness']:.3f} cite-prec {m['citation_precision']:.3f} refusals {int(m['refusals_correct'])}/3 "
          f"false {int(m['false_refusals'])}/24 hit@5 {m['hit@k']:.3f} p50 {m['latency_p50_s'] * 1000:.0f} ms")
    if args.show:
        print("\n".join(report.misses()))
    qa = run_qa(None, SHARED / "eval" / "stici", assistant=stici)
    q = qa.metrics
    print(f"stici: correct {q['correct']:.3f} (single {q.get('correct_single', 0):.2f} multi {q.get('correct_multi', 0):.2f}) "
          f"right-doc {q['right_document']:.3f} refusals {int(q['refusals'])}/20 false {int(q['false_refusals'])}/40 "
          f"recall {q['mean_recall']:.3f} p50 {q['latency_p50_s'] * 1000:.0f} ms  ({time.perf_counter() - t:.0f} s)")
    if args.show:
        print("\n".join(qa.misses()))
    own = run_qa(None, OWN, assistant=stici)
    o = own.metrics
    print(f"own: correct {o['correct']:.3f} (single {o.get('correct_single', 0):.2f} multi {o.get('correct_multi', 0):.2f}) "
          f"refusals {int(o['refusals'])}/{int(o['no_answer'])} false {int(o['false_refusals'])}/{int(o['answerable'])} recall {o['mean_recall']:.3f}")
    if args.show:
        print("\n".join(own.misses()))


if __name__ == "__main__":
    main()
