"""Fit the refusal gate (assistant/evidence.py) by cross-validation on several question sets.

    .venv/bin/python -m benchmarks.refusal_cv [--data /tmp/lead-data] [--folds 5] [--pos-cost 3] [--own] [--extra DIR ...]

Collects the gate's features for every question of the dev set (sample articles, whole
collection), of the STICI train split (each question limited to its document) and, with
``--own`` / ``--extra DIR``, of our own question sets on the documents that split leaves out, then fits a
logistic regression (L2, plain gradient descent) in k folds stratified by set and label, and
prints the held-out-fold refusals and false refusals per set, and the weights fitted on all
questions (the ones to ship as ``GateWeights`` defaults). Not part of the product.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from assistant.conversation import retrieval_query
from assistant.asks import unanswered_ask
from assistant.evaluation import load_questions
from assistant.qa_eval import load_qa
from benchmarks.answer_lab import OWN, SHARED, _assistants, _engine_of


def _features(assistant, question: str, query: str, sources):
    engine = _engine_of(assistant)
    passages = assistant.retrieve(query, sources=sources)
    top = passages[: engine.max_passages]
    cands, best_sentence = engine.candidates(query, top)
    best_passage = max((p.dense_score for p in top if p.dense_score is not None), default=0.0)
    composed = engine.compose(question, query, list(top), cands, passages) if cands else None
    ev = engine.evidence(question, query, top, max(best_sentence, best_passage), sources, composed)
    return ev.vector(), ev, bool(unanswered_ask(question, composed.text if composed else "", query))


def collect(data: str, own: bool = False, extra: tuple[str, ...] = ()):
    dev, stici = _assistants(Path(data), "extractive")
    rows = []  # (set, label answerable, features, question)
    for item in load_questions(SHARED / "eval" / "dev_questions.jsonl"):
        history = [(t, "") for t in item.turns[:-1]]
        query = retrieval_query(item.question, history)
        x, ev, rule = _features(dev, item.question, query, None)
        rows.append(("dev", item.answerable, x, item.question, ev, rule))
    _, items = load_qa(SHARED / "eval" / "stici")
    for item in items:
        x, ev, rule = _features(stici, item.question, item.question, [item.document])
        rows.append(("stici", item.answerable, x, item.question, ev, rule))
    for folder in ((OWN,) if own else ()) + tuple(Path(e) for e in extra):  # more sets on the same twenty documents
        _, items = load_qa(folder)
        for item in items:
            x, ev, rule = _features(stici, item.question, item.question, [item.document])
            rows.append((Path(folder).name, item.answerable, x, item.question, ev, rule))
    return rows


def fit(X: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 6000, lr: float = 1.0, pos_cost: float = 1.0) -> np.ndarray:
    """L2 logistic regression, classes weighted to count equally."""
    Xb = np.hstack([np.ones((len(X), 1)), X])
    w = np.zeros(Xb.shape[1])
    sw = np.where(y == 1, pos_cost * len(y) / (2 * max(1, y.sum())), len(y) / (2 * max(1, (1 - y).sum())))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-Xb @ w))
        grad = Xb.T @ ((p - y) * sw) / len(y) + l2 * np.r_[0, w[1:]]
        w -= lr * grad
    return w


def predict(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    return (np.hstack([np.ones((len(X), 1)), X]) @ w) >= 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/lead-data")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--l2", type=float, default=0.01)
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--own", action="store_true", help="fit on our own question set too (benchmarks/data/own)")
    ap.add_argument("--extra", action="append", default=[], help="another QA folder on the STICI documents (benchmarks/data/fresh)")
    ap.add_argument("--pos-cost", type=float, default=1.0, help="cost of a false refusal relative to a missed refusal")
    args = ap.parse_args()
    rows = collect(args.data, args.own, tuple(args.extra))
    X = np.array([r[2] for r in rows], dtype=float)
    y = np.array([1.0 if r[1] else 0.0 for r in rows])
    if args.show:
        for r in rows:
            ev = r[4]
            print(f"{r[0]:5} {'A' if r[1] else 'N'} names={list(ev.missing_names)} mm={ev.max_missing:.2f} acov={ev.answer_coverage:.2f} pcov={ev.passage_coverage:.2f} scov={ev.scope_coverage:.2f} rel={ev.relevance:.2f}  {r[3][:70]}")
    # stratified folds by (set, label)
    rng = random.Random(args.seed)
    fold = np.zeros(len(rows), dtype=int)
    for key in sorted({(r[0], r[1]) for r in rows}):  # sorted: the folds depend on --seed alone
        idx = [i for i, r in enumerate(rows) if (r[0], r[1]) == key]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % args.folds
    # a missing name or number phrase refuses outright (a rule, nothing fitted); the logistic gate
    # is fitted on the other questions
    named = X[:, 0] > 0
    ruled = np.array([r[5] for r in rows], dtype=bool)  # refused by a rule after the gate (nothing fitted)
    held = np.zeros(len(rows), dtype=bool)
    for f in range(args.folds):
        train = (fold != f) & ~named
        w = fit(X[train], y[train], l2=args.l2, pos_cost=args.pos_cost)
        held[fold == f] = predict(w, X[fold == f]) & ~named[fold == f]
    for name in sorted({r[0] for r in rows}):
        m = np.array([r[0] == name for r in rows])
        neg, pos = m & (y == 0), m & (y == 1)
        answered = held & ~ruled  # end to end: the held-out gate, then the rules
        print(f"held-out {name}: gate refusals {int((~held[neg]).sum())}/{int(neg.sum())}, false refusals {int((~held[pos]).sum())}/{int(pos.sum())}; "
              f"with the rules: refusals {int((~answered[neg]).sum())}/{int(neg.sum())}, false refusals {int((~answered[pos]).sum())}/{int(pos.sum())}")
    w = fit(X[~named], y[~named], l2=args.l2, pos_cost=args.pos_cost)
    ins = predict(w, X) & ~named
    print(f"in-sample all: refusals {int((~ins[y == 0]).sum())}/{int((y == 0).sum())}, false refusals {int((~ins[y == 1]).sum())}/{int((y == 1).sum())}")
    names = ("bias", "missing_name", "passage_coverage", "scope_coverage", "relevance", "max_missing", "answer_coverage")
    print("weights (all questions): " + ", ".join(f"{n}={v:.2f}" for n, v in zip(names, w)))


if __name__ == "__main__":
    main()
