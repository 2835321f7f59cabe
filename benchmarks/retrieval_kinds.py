"""Retrieval quality per question kind: BM25 only, dense only and fused.

    .venv/bin/python benchmarks/retrieval_kinds.py                      # the tables
    .venv/bin/python benchmarks/retrieval_kinds.py --sweep              # + alternatives and curves
    .venv/bin/python benchmarks/retrieval_kinds.py --json

Sets (both are indexed first if needed, each into its own data folder):

- the dev set ``../shared/eval/dev_questions.jsonl`` over ``corpus/articles``: hit@5 and MRR@5
  of the evidence phrases, per kind (a record's ``kind`` field, else ``DEV_KINDS``);
  unanswerable questions are skipped; a follow-up is retrieved with
  ``conversation.retrieval_query`` of its last turn, the earlier user turns as history.
- appended facts: made-up one-sentence facts appended to the sample articles (each fact to a
  different article; two placements), asked with close ("exact") and looser wording: the
  issue-11 case of a sentence BM25 ranks first and the dense side misses. hit@5 / MRR@5 of
  the chunk holding the sentence.
- the STICI train split over all 20 of its documents: "right document" hit@5 / MRR@5 (a top-5
  passage, retrieved over every document, comes from the question's document), and "scoped":
  retrieved within the question's document only, the share of questions whose top-5 passages
  hold at least half of the reference answer's content words (``tokenize_query``).

Every ranking is computed from the same candidate lists (``HybridRetriever.candidates_for``),
so the sweep costs no extra retrieval. Not part of the installed package.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.conversation import retrieval_query  # noqa: E402
from assistant.fusion import convex_fusion, fuse, weighted_rrf  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index.keyword import tokenize_query  # noqa: E402

SHARED = REPO.parent / "shared" / "eval"
DEV = SHARED / "dev_questions.jsonl"
STICI = SHARED / "stici"
K = 5
# what the dev set's questions are (the file has no "kind" field yet); d17-d19 are unanswerable
DEV_KINDS = {
    **{f"d{i:02d}": "keyword" for i in range(1, 17)},
    "d20": "follow-up",
    "d21": "follow-up",
    **{f"d{i:02d}": "paraphrased" for i in range(22, 28)},
}

# (sentence, close question, looser question); invented, so no article says anything like it
FACTS = (
    ("ZanzibarJS is a new framework that reaches seven billion requests per second on one laptop.",
     "Which framework reaches seven billion requests per second?",
     "What handles seven billion requests a second on a single laptop?"),
    ("The Quillback planner cuts PostgreSQL join latency by ninety percent on nightly reports.",
     "What cuts PostgreSQL join latency by ninety percent?",
     "Which tool makes Postgres joins in nightly reports much faster?"),
    ("Marlinspike is a Kotlin library that compiles HTTP routes into a perfect hash table.",
     "Which Kotlin library compiles HTTP routes into a perfect hash table?",
     "What turns Kotlin web routes into a perfect hash?"),
    ("The Tessellate scheduler moves idle containers to ARM servers every eleven minutes.",
     "Which scheduler moves idle containers to ARM servers?",
     "How often does Tessellate relocate idle containers?"),
    ("Brindlewood, a Zig web server, boots in four milliseconds on a Raspberry Pi.",
     "Which Zig web server boots in four milliseconds?",
     "How fast does Brindlewood start on a Raspberry Pi?"),
)
PLACEMENTS = 2  # fact i goes to article (i + placement) mod 5

Ranked = list[tuple[str, float]]


@dataclass(frozen=True)
class Case:
    """One question's candidates and what counts as found among them."""

    set: str
    kind: str
    id: str
    dense: Ranked
    keyword: Ranked
    relevant: frozenset[str]  # candidate ids that hold the evidence / come from the document
    words: frozenset[str] = frozenset()  # scoped cases: the reference answer's content words
    tokens: tuple[tuple[str, frozenset[str]], ...] = ()  # scoped cases: content words per candidate


@dataclass(frozen=True)
class Params:
    """A fusion setting; ``guarantees=False`` is the bare weighted RRF / convex score (the
    leader slots and clear winners of ``fusion.fuse`` off)."""

    method: str
    dense_weight: float
    rrf_k: int
    lead_ratio: float
    guarantees: bool = True

    @classmethod
    def from_settings(cls, s: Settings) -> Params:
        return cls(s.fusion, s.dense_weight, s.rrf_k, s.lead_ratio)

    def label(self) -> str:
        k = f" k={self.rrf_k}" if self.method == "rrf" else ""
        if not self.guarantees:
            return f"{self.method} w={self.dense_weight:g}{k}, no guarantees"
        lead = "inf" if self.lead_ratio == float("inf") else f"{self.lead_ratio:g}"
        return f"{self.method} w={self.dense_weight:g}{k} slots lead={lead}"


# -- rankings and metrics (pure) ---------------------------------------------------------------
def ranking(case: Case, ranker: str, p: Params) -> list[str]:
    if ranker == "bm25":
        return [i for i, _ in case.keyword[:K]]
    if ranker == "dense":
        return [i for i, _ in case.dense[:K]]
    if not p.guarantees:
        weights = [p.dense_weight, 1.0 - p.dense_weight]
        if p.method == "rrf":
            scores = weighted_rrf([[i for i, _ in case.dense], [i for i, _ in case.keyword]], weights, p.rrf_k)
        else:
            scores = convex_fusion([dict(case.dense), dict(case.keyword)], weights)
        return sorted(scores, key=lambda i: (-scores[i], i))[:K]
    ranked = fuse(case.dense, case.keyword, K, method=p.method, dense_weight=p.dense_weight, rrf_k=p.rrf_k, lead_ratio=p.lead_ratio)
    return [i for i, _ in ranked]


def found(case: Case, top: Sequence[str]) -> tuple[bool, float]:
    """(hit, reciprocal rank) of one ranking; scoped cases: (answer words covered, same)."""
    if case.words:
        have: set[str] = set()
        tokens = dict(case.tokens)
        for i in top:
            have |= tokens.get(i, frozenset())
        ok = len(case.words & have) * 2 >= len(case.words)
        return ok, float(ok)
    rank = next((n for n, i in enumerate(top, start=1) if i in case.relevant), None)
    return rank is not None, (1.0 / rank if rank else 0.0)


def score(cases: Sequence[Case], rank: Callable[[Case], list[str]]) -> dict[str, float]:
    results = [found(c, rank(c)) for c in cases]
    n = max(1, len(results))
    return {"n": float(len(results)), "hit": sum(h for h, _ in results) / n, "mrr": sum(r for _, r in results) / n}


def groups(cases: Sequence[Case]) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for c in cases:
        out.setdefault(f"{c.set}/{c.kind}", []).append(c)
    return out


# -- collecting candidates (IO) ------------------------------------------------------------------
def _assistant(corpus: Path, data: Path, settings: Settings) -> Any:
    from assistant.core import Assistant

    assistant = Assistant.from_settings(settings.with_(corpus_dir=corpus, data_dir=data))
    report = assistant.index()
    if report.embedded:
        print(f"indexed {corpus}: {report.chunks} chunks", file=sys.stderr)
    assistant.retrieve("warm up")
    return assistant


def _retriever(assistant: Any) -> Any:
    assistant._ensure_ready()  # a benchmark may look inside: the retriever of the committed index
    return assistant.retriever


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def dev_cases(retriever: Any) -> list[Case]:
    cases = []
    for no, rec in enumerate(_read(DEV), start=1):
        qid = str(rec.get("id", no))
        kind = rec.get("kind") or DEV_KINDS.get(qid)
        if not rec.get("evidence") or kind is None:
            continue  # unanswerable: nothing to find
        turns = rec.get("turns") or [rec["q"]]
        query = retrieval_query(turns[-1], [(t, "") for t in turns[:-1]])
        dense, keyword = retriever.candidates_for(query)
        phrases = [e.lower() for e in rec["evidence"]]
        relevant = frozenset(c.id for c, _ in dense + keyword if any(p in c.text.lower() for p in phrases))
        cases.append(Case("dev", kind, qid, [(c.id, s) for c, s in dense], [(c.id, s) for c, s in keyword], relevant))
    return cases


def appended_corpus(folder: Path, placement: int) -> Path:
    """corpus/articles with each fact appended to one article (files rewritten only if changed)."""
    articles = sorted((REPO / "corpus" / "articles").glob("*.md"))
    folder.mkdir(parents=True, exist_ok=True)
    texts = {a.name: a.read_text(encoding="utf-8").rstrip("\n") + "\n" for a in articles}
    for i, (sentence, _, _) in enumerate(FACTS):
        name = articles[(i + placement) % len(articles)].name
        texts[name] += f"\n{sentence}\n"
    for name, text in texts.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return folder


def appended_cases(retriever: Any, placement: int) -> list[Case]:
    cases = []
    for i, (sentence, *questions) in enumerate(FACTS):
        for kind, question in zip(("exact", "loose"), questions):
            dense, keyword = retriever.candidates_for(question)
            relevant = frozenset(c.id for c, _ in dense + keyword if sentence in c.text)
            qid = f"f{i + 1}{kind[0]}-p{placement}"
            cases.append(Case("appended", kind, qid, [(c.id, s) for c, s in dense], [(c.id, s) for c, s in keyword], relevant))
    return cases


def stici_cases(retriever: Any) -> list[Case]:
    cases = []
    for no, rec in enumerate(_read(STICI / "questions.jsonl"), start=1):
        if rec["kind"] == "no_answer":
            continue
        doc, qid = rec["document"], f"s{no:02d}"
        dense, keyword = retriever.candidates_for(rec["q"])
        relevant = frozenset(c.id for c, _ in dense + keyword if c.source == doc)
        cases.append(Case("stici", "right-document", qid, [(c.id, s) for c, s in dense], [(c.id, s) for c, s in keyword], relevant))
        dense, keyword = retriever.candidates_for(rec["q"], sources=[doc])
        words = frozenset(tokenize_query(rec["answer"]))
        if not words:
            continue
        tokens = tuple((cid, frozenset(tokenize_query(c.text))) for cid, c in {c.id: c for c, _ in dense + keyword}.items())
        cases.append(Case("stici", "scoped-answer-words", qid, [(c.id, s) for c, s in dense], [(c.id, s) for c, s in keyword], frozenset(), words, tokens))
    return cases


# -- reports -----------------------------------------------------------------------------------
def table(cases: Sequence[Case], params: Params) -> dict[str, dict[str, dict[str, float]]]:
    return {
        name: {r: score(group, lambda c, r=r: ranking(c, r, params)) for r in ("bm25", "dense", "fused")}
        for name, group in groups(cases).items()
    }


def print_table(rows: dict[str, dict[str, dict[str, float]]], params: Params) -> None:
    print(f"hit@{K} / MRR@{K} (scoped-answer-words: share with half the answer's words in the top {K}); fused = {params.label()}")
    print(f"{'set/kind':32} {'n':>3}  {'BM25':>11}  {'dense':>11}  {'fused':>11}")
    for name, by in rows.items():
        cells = [f"{by[r]['hit']:.2f} / {by[r]['mrr']:.2f}" for r in ("bm25", "dense", "fused")]
        print(f"{name:32} {int(by['fused']['n']):>3}  " + "  ".join(f"{c:>11}" for c in cells))


def sweep(cases: Sequence[Case], base: Params) -> list[dict[str, Any]]:
    """The alternatives and curves of docs/retrieval.md: one row per fusion setting."""
    bare = replace(base, guarantees=False)
    variants = [replace(bare, dense_weight=0.7), bare]  # the old default (dense-weighted RRF); equal weights
    variants += [replace(bare, rrf_k=rk) for rk in (0, 10)] + [replace(base, rrf_k=rk) for rk in (0, 10, 30, 120)]
    variants += [replace(bare, method="convex", dense_weight=w) for w in (0.3, 0.5, 0.7)]
    variants += [replace(base, method="convex", dense_weight=w) for w in (0.3, 0.5, 0.7)]
    variants += [replace(base, dense_weight=w) for w in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
    variants += [replace(base, lead_ratio=r) for r in (1.25, 1.5, 2.0, 2.5, 3.0, float("inf"))]
    out = []
    for p in dict.fromkeys(variants):
        row: dict[str, Any] = {"params": p.label()}
        for name, group in groups(cases).items():
            row[name] = score(group, lambda c, p=p: ranking(c, "fused", p))
        out.append(row)
    return out


def cross_validate(cases: Sequence[Case], base: Params, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Pick (dense_weight, lead_ratio) on k-1 folds by mean MRR@5 over all cases, score the
    held-out fold; questions (not cases) are split, so a STICI question's two cases stay together."""
    grid = [replace(base, dense_weight=w, lead_ratio=r) for w in (0.3, 0.4, 0.5, 0.6, 0.7) for r in (1.5, 2.0, 3.0, float("inf"))]
    ids = sorted({(c.set, c.id) for c in cases})
    random.Random(seed).shuffle(ids)
    fold_of = {q: n % folds for n, q in enumerate(ids)}
    picked, held = [], []
    for f in range(folds):
        train = [c for c in cases if fold_of[(c.set, c.id)] != f]
        test = [c for c in cases if fold_of[(c.set, c.id)] == f]
        best = max(grid, key=lambda p: (score(train, lambda c: ranking(c, "fused", p))["mrr"], p == base))
        picked.append(best.label())
        held += [(c, best) for c in test]
    by_group: dict[str, Any] = {}
    for name in groups(cases):
        rows = [found(c, ranking(c, "fused", p)) for c, p in held if f"{c.set}/{c.kind}" == name]
        by_group[name] = {"hit": sum(h for h, _ in rows) / len(rows), "mrr": sum(r for _, r in rows) / len(rows)}
    return {"picked": picked, "held_out": by_group}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/retrieval-kinds/articles"), help="data folder for corpus/articles")
    ap.add_argument("--stici-data", type=Path, default=Path("/tmp/retrieval-kinds/stici"), help="data folder for the STICI documents")
    ap.add_argument("--appended", type=Path, default=Path("/tmp/retrieval-kinds/appended"), help="folder for the appended-fact corpora and their indexes")
    ap.add_argument("--sweep", action="store_true", help="also the alternatives, weight and lead-ratio curves, and a 5-fold CV")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    params = Params.from_settings(settings)
    cases = dev_cases(_retriever(_assistant(REPO / "corpus" / "articles", args.data, settings)))
    for p in range(PLACEMENTS):
        corpus = appended_corpus(args.appended / f"p{p}" / "corpus", p)
        cases += appended_cases(_retriever(_assistant(corpus, args.appended / f"p{p}" / "data", settings)), p)
    cases += stici_cases(_retriever(_assistant(STICI / "documents", args.stici_data, settings)))
    report: dict[str, Any] = {"fused": params.label(), "table": table(cases, params)}
    if args.sweep:
        report["sweep"] = sweep(cases, params)
        report["cv"] = cross_validate(cases, params)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print_table(report["table"], params)
    if args.sweep:
        names = list(groups(cases))
        print(f"\nfused variants, hit@{K} / MRR@{K}:")
        print(f"{'params':34}" + "".join(f"{n.split('/')[-1][:13]:>14}" for n in names))
        for row in report["sweep"]:
            print(f"{row['params']:34}" + "".join(f"{row[n]['hit']:>8.2f}/{row[n]['mrr']:.2f}" for n in names))
        cv = report["cv"]
        print("\n5-fold CV over (dense_weight, lead_ratio), held-out folds: "
              + ", ".join(f"{n} {v['hit']:.2f}/{v['mrr']:.2f}" for n, v in cv["held_out"].items()))
        print("picked per fold: " + "; ".join(cv["picked"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
