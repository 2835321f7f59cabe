"""What each step of the former BEIR-only pipeline adds to the retriever ``assistant ask`` uses.

    .venv/bin/python -m benchmarks.beir_steps --data /tmp/beir-data            # SciFact train, dev, STICI
    .venv/bin/python -m benchmarks.beir_steps --data /tmp/beir-data --json

Base: the product retriever (``Assistant.retrieve``: dense and BM25 chunk candidates fused by
``fusion.fuse`` with the ``Settings`` defaults), a document scoring its best passage. Each step
of the old ``BeirParams`` pipeline is added to it alone:

- ``candidates``: more chunk candidates per side (SciFact: 300 = ``eval --beir``, 30 = ``ask``'s
  own 30, 1,000 = the old pipeline's; answer sets: 300 and 1,000 against ``ask``'s 30);
- ``torch queries``: query vectors from the bulk torch model instead of the fp32 ONNX export;
- ``convex 0.7``: max-normalised convex fusion, dense weight 0.7, instead of RRF;
- ``rocchio``: the query vector moved 0.3 towards the best fused document's mean chunk vector,
  the dense side searched again and fused again;
- ``document fusion``: the two sides' *document* rankings (best chunk each) fused instead of
  their chunk rankings; ``+ whole-document BM25``: the keyword side over whole documents;
- ``+ 300-char chunks`` (``--fine``): a second index of 300-character chunks, a document's dense
  score half its best 800-character chunk and half its best 300-character one, fused at the
  document level. Not re-measured on SciFact (33,652 more chunks, ~50 min here): it can only
  enter ``ask`` if the answer sets want it too, so it is measured there first.

SciFact: nDCG@10 / Recall@100 / MRR@10 (``ranx``) over the train queries and over two halves
split by a hash of the query id. Answer sets (the passages ``ask`` hands the engine, k = 5):
dev hit@5 / MRR@5 of the evidence phrases; STICI right-document hit@5 / MRR@5 over all 20
documents; STICI scoped: within the question's document, the share of questions whose top-5
passages hold half of the reference answer's content words. Document-level steps are scored on
the answer sets as document rankings (MRR of the question's document). Every variant of a query
comes from the same candidate lists (one dense and one BM25 search of 1,000), so differences are
the steps', not the approximate index's. No parameter is fitted here: the old values are used.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from assistant.beir import beir_settings, doc_scores, evaluate_run, load_beir  # noqa: E402
from assistant.conversation import retrieval_query  # noqa: E402
from assistant.fusion import fuse  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from corpus.models import Article, Chunk  # noqa: E402
from index.keyword import KeywordIndex, tokenize_query  # noqa: E402

SHARED = REPO.parent / "shared"
SCIFACT = SHARED / "bench" / "scifact"
DEV = SHARED / "eval" / "dev_questions.jsonl"
STICI = SHARED / "eval" / "stici"
POOL = 1000  # candidates fetched once per query and side
K = 5  # passages ask hands the engine

Hits = list[tuple[Chunk, float]]


# -- the steps (pure given the candidate lists) ---------------------------------------------------
def best_per_document(hits: Hits) -> list[tuple[str, float]]:
    """Chunk hits to (document, best score), best first. Pure."""
    best: dict[str, float] = {}
    for chunk, score in hits:
        if chunk.source not in best or score > best[chunk.source]:
            best[chunk.source] = float(score)
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))


def unit(v: Any) -> Any:
    v = np.asarray(v, dtype=np.float64)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def rocchio(query: Any, feedback: Any, weight: float) -> list[float]:
    """The unit query plus ``weight`` x the (unit) feedback vector, scaled to length 1. Pure."""
    return unit(unit(query) + weight * unit(feedback)).tolist()


def half_and_half(first: dict[str, float], second: dict[str, float]) -> list[tuple[str, float]]:
    """Each document's mean of its two scores, a side it is missing from counting that side's
    lowest; best first. Pure."""
    if not first or not second:
        return sorted((first or second).items(), key=lambda kv: (-kv[1], kv[0]))
    lo1, lo2 = min(first.values()), min(second.values())
    both = {d: 0.5 * first.get(d, lo1) + 0.5 * second.get(d, lo2) for d in first.keys() | second.keys()}
    return sorted(both.items(), key=lambda kv: (-kv[1], kv[0]))


def whole_documents(articles: Sequence[Article]) -> list[Chunk]:
    """Each article as one chunk (title + whole text): a keyword index over documents. Pure."""
    return [Chunk(id=a.source, source=a.source, title=a.title, section="", text=a.text, start=0, end=len(a.text), index=0) for a in articles]


@dataclass
class Steps:
    """The product retriever and the pieces the steps need."""

    retriever: Any
    settings: Settings
    doc_keyword: KeywordIndex | None = None
    torch: Any = None
    fine: Any = None  # the retriever of a 300-character chunking of the same documents

    def variant(self, name: str) -> Any:
        r = copy.copy(self.retriever)
        if name == "convex 0.7":
            r.fusion, r.dense_weight = "convex", 0.7
        return r

    def passages(self, query: str, dense: Hits, keyword: Hits, n: int, k: int, step: str = "base",
                 sources: frozenset[str] | None = None) -> list[Any]:
        """The product's fused passages with one step added (candidate lists of ``n`` a side)."""
        r = self.variant(step)
        if step == "torch queries":
            dense = r.dense(query, n, sources, vector=self.torch.embed_query(query))
        elif step == "rocchio":
            first = r.fuse(dense[:n], keyword[:n], max(k, 30))
            if first:
                top = first[0].source
                feedback = np.asarray(r.store.source_vectors(top), dtype=np.float64).mean(axis=0)
                dense = r.dense(query, n, sources, vector=rocchio(r.embedder.embed_query(query), feedback, 0.3))
        return r.fuse(dense[:n], keyword[:n], k)

    def documents(self, query: str, dense: Hits, keyword: Hits, n: int, step: str,
                  sources: frozenset[str] | None = None) -> dict[str, float]:
        """A document ranking: the product's (best passage) or a document-level step's."""
        if step in ("document fusion", "+ whole-document BM25", "+ 300-char chunks"):
            kw = keyword[:n]
            if step == "+ whole-document BM25":
                assert self.doc_keyword is not None
                kw = self.doc_keyword.search(query, n, sources)
            d, w = best_per_document(dense[:n]), best_per_document(kw)
            if step == "+ 300-char chunks":
                d = half_and_half(dict(d), dict(best_per_document(self.fine.dense(query, n, sources))))
            s = self.settings
            return dict(fuse(d, w, max(1, len(d) + len(w)), method=s.fusion, dense_weight=s.dense_weight,
                             rrf_k=s.rrf_k, lead_ratio=s.lead_ratio))
        return doc_scores(self.passages(query, dense, keyword, n, n, step, sources))


# -- SciFact ------------------------------------------------------------------------------------
SCIFACT_ROWS = (
    ("product, 300 candidates (eval --beir)", "base", 300),
    ("product, ask's 30 candidates", "base", 30),
    ("product, 100 candidates", "base", 100),
    ("+ 1,000 candidates", "base", 1000),
    ("+ torch query vectors", "torch queries", 300),
    ("+ convex fusion, dense 0.7", "convex 0.7", 300),
    ("+ Rocchio (1 document, 0.3)", "rocchio", 300),
    ("document-level fusion", "document fusion", 300),
    ("document-level fusion + whole-document BM25", "+ whole-document BM25", 300),
)


def _half(qid: str) -> int:
    return hashlib.sha256(qid.encode()).digest()[0] % 2


def scifact(steps_for: Callable[[Any], Steps], folder: Path, data_dir: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
    from assistant.core import Assistant

    data = load_beir(folder)
    assistant = Assistant.from_settings(beir_settings(Settings(data_dir=data_dir), data))
    assistant.index(articles=data.articles, lock_timeout=600)
    steps = steps_for(assistant)
    steps.doc_keyword = KeywordIndex()
    steps.doc_keyword.build(whole_documents(data.articles))
    runs: dict[str, dict[str, dict[str, float]]] = {label: {} for label, _, _ in SCIFACT_ROWS}
    for no, (qid, text) in enumerate(data.queries.items(), start=1):
        dense, keyword = steps.retriever.candidates_for(text, POOL)
        for label, step, n in SCIFACT_ROWS:
            scores = steps.documents(text, dense, keyword, n, step)
            runs[label][qid] = dict(sorted(scores.items(), key=lambda kv: -kv[1])[:100])
        if no % 100 == 0:
            log(f"scifact {no}/{len(data.queries)}")
    rows = []
    for label, _, _ in SCIFACT_ROWS:
        row: dict[str, Any] = {"row": label, **evaluate_run(data.qrels, runs[label])}
        for h in (0, 1):
            qrels = {q: r for q, r in data.qrels.items() if _half(q) == h}
            row[f"ndcg@10 half {h}"] = evaluate_run(qrels, {q: runs[label][q] for q in qrels})["ndcg@10"]
        rows.append(row)
    return rows


# -- the answer sets ----------------------------------------------------------------------------
PASSAGE_ROWS = (
    ("product (ask: 30 candidates)", "base", 30),
    ("+ 300 candidates", "base", 300),
    ("+ 1,000 candidates", "base", 1000),
    ("+ torch query vectors", "torch queries", 30),
    ("+ convex fusion, dense 0.7", "convex 0.7", 30),
    ("+ Rocchio (1 document, 0.3)", "rocchio", 30),
)
DOCUMENT_ROWS = (
    ("product (best passage)", "base"),
    ("document-level fusion", "document fusion"),
    ("document-level fusion + whole-document BM25", "+ whole-document BM25"),
)
FINE_ROW = ("document-level fusion + 300-char chunks", "+ 300-char chunks")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rank(ids: Sequence[str], good: Callable[[str], bool]) -> float:
    return next((1.0 / n for n, i in enumerate(ids, start=1) if good(i)), 0.0)


def _assistant(corpus: Path, data_dir: Path, settings: Settings) -> Any:
    from assistant.core import Assistant
    from corpus.loaders import load_corpus

    assistant = Assistant.from_settings(settings.with_(corpus_dir=corpus, data_dir=data_dir, knowledge=False))
    assistant.index(lock_timeout=600)
    return assistant, list(load_corpus(corpus).articles)


def answer_sets(steps_for: Callable[[Any], Steps], work: Path, settings: Settings, fine: bool = False) -> dict[str, Any]:
    """hit@5 / MRR@5 per passage step and document MRR per document step, dev and STICI."""
    document_rows = DOCUMENT_ROWS + ((FINE_ROW,) if fine else ())
    out: dict[str, Any] = {"passages": {label: {} for label, _, _ in PASSAGE_ROWS}, "documents": {label: {} for label, _ in document_rows}}
    fine_settings = settings.with_(chunk_max_chars=300, chunk_overlap_chars=0)

    def fine_retriever(corpus: Path, name: str) -> Any:
        return steps_for(_assistant(corpus, work / name, fine_settings)[0]).retriever if fine else None

    def add(table: str, label: str, key: str, value: float) -> None:
        out[table][label].setdefault(key, []).append(value)

    dev_assistant, dev_articles = _assistant(REPO / "corpus" / "articles", work / "dev", settings)
    steps = steps_for(dev_assistant)
    steps.doc_keyword = KeywordIndex()
    steps.doc_keyword.build(whole_documents(dev_articles))
    steps.fine = fine_retriever(REPO / "corpus" / "articles", "dev-300")
    for rec in _jsonl(DEV):
        if not rec.get("evidence"):
            continue
        turns = rec.get("turns") or [rec["q"]]
        query = retrieval_query(turns[-1], [(t, "") for t in turns[:-1]])
        phrases = [e.lower() for e in rec["evidence"]]
        right = {a.source for a in dev_articles if any(p in a.text.lower() for p in phrases)}
        dense, keyword = steps.retriever.candidates_for(query, POOL)
        for label, step, n in PASSAGE_ROWS:
            top = steps.passages(query, dense, keyword, n, K, step)
            rr = _rank([p.text.lower() for p in top], lambda t: any(p in t for p in phrases))
            add("passages", label, "dev hit@5", float(rr > 0))
            add("passages", label, "dev MRR@5", rr)
        for label, step in document_rows:
            docs = steps.documents(query, dense, keyword, 300, step)
            add("documents", label, "dev document MRR", _rank(sorted(docs, key=lambda d: -docs[d]), right.__contains__))

    stici_assistant, stici_articles = _assistant(STICI / "documents", work / "stici", settings)
    steps = steps_for(stici_assistant)
    steps.doc_keyword = KeywordIndex()
    steps.doc_keyword.build(whole_documents(stici_articles))
    steps.fine = fine_retriever(STICI / "documents", "stici-300")
    for rec in _jsonl(STICI / "questions.jsonl"):
        if rec["kind"] == "no_answer":
            continue
        q, doc = rec["q"], rec["document"]
        words = set(tokenize_query(rec["answer"]))
        dense, keyword = steps.retriever.candidates_for(q, POOL)
        scoped = frozenset([doc])
        s_dense, s_keyword = steps.retriever.candidates_for(q, POOL, sources=[doc])
        for label, step, n in PASSAGE_ROWS:
            rr = _rank([p.source for p in steps.passages(q, dense, keyword, n, K, step)], doc.__eq__)
            add("passages", label, "STICI right-doc hit@5", float(rr > 0))
            add("passages", label, "STICI right-doc MRR@5", rr)
            have: set[str] = set()
            for p in steps.passages(q, s_dense, s_keyword, n, K, step, scoped):
                have |= set(tokenize_query(p.text))
            add("passages", label, "STICI scoped", float(bool(words) and 2 * len(words & have) >= len(words)))
        for label, step in document_rows:
            docs = steps.documents(q, dense, keyword, 300, step)
            add("documents", label, "STICI document MRR", _rank(sorted(docs, key=lambda d: -docs[d]), doc.__eq__))
    return {table: {label: {k: sum(v) / len(v) for k, v in cols.items()} for label, cols in rows.items()} for table, rows in out.items()}


# the steps that are Settings, end to end through what `assistant eval --questions` / `--qa` run
END_TO_END = (
    ("product", {}),
    ("+ 300 candidates", {"candidates": 300}),
    ("+ 1,000 candidates", {"candidates": 1000}),
    ("+ torch query vectors", {"query_backend": "torch"}),
    ("+ convex fusion, dense 0.7", {"fusion": "convex", "dense_weight": 0.7}),
)


def end_to_end(settings: Settings, work: Path) -> dict[str, dict[str, float]]:
    """Dev (``run_eval``, as ``eval --questions``) and STICI (``run_qa``, as ``eval --qa``)
    with each step that is a setting; extractive engine."""
    from assistant.core import Assistant
    from assistant.evaluation import load_questions, run_eval
    from assistant.qa_eval import run_qa

    items = load_questions(DEV)
    out = {}
    for label, change in END_TO_END:
        s = settings.with_(data_dir=work / "e2e", engine="extractive", **change)
        dev_assistant = Assistant.from_settings(s.with_(data_dir=work / "e2e" / "dev"))
        dev_assistant.index(lock_timeout=600)
        dev = run_eval(dev_assistant, items).metrics
        qa = run_qa(s, STICI).metrics
        out[label] = {"dev MRR@5": dev["mrr"], "dev correct": dev["answer_correctness"], "dev citation precision": dev["citation_precision"],
                      "STICI correct": qa["correct"], "STICI right doc": qa["right_document"], "STICI false refusals": qa["false_refusals"]}
    return out


def _steps_for(settings: Settings, torch: Any) -> Callable[[Any], Steps]:
    def make(assistant: Any) -> Steps:
        assistant.retrieve("warm up")
        return Steps(assistant.retriever, settings, torch=torch)  # a benchmark may look inside

    return make


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--beir", type=Path, default=SCIFACT, help="BEIR folder (default: ../shared/bench/scifact)")
    ap.add_argument("--data", type=Path, default=Path("/tmp/beir-data"), help="data folder (the BEIR index goes to <data>/beir, as with eval --beir)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/beir-steps"), help="data folders for the dev and STICI indexes")
    ap.add_argument("--skip-beir", action="store_true")
    ap.add_argument("--skip-sets", action="store_true")
    ap.add_argument("--answers", action="store_true", help="also end to end: dev and STICI answers with each step that is a setting")
    ap.add_argument("--fine", action="store_true", help="also the 300-character second chunking (answer sets; indexes them again)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from assistant.factory import build_embedder

    settings = Settings.from_env()
    torch = build_embedder(settings)  # the bulk (torch) embedder, for the torch-query step
    make = _steps_for(settings, torch)
    report: dict[str, Any] = {}
    if not args.skip_sets:
        report["answer_sets"] = answer_sets(make, args.work, settings, fine=args.fine)
    if args.answers:
        report["end_to_end"] = end_to_end(settings, args.work)
    if not args.skip_beir:
        report["scifact"] = scifact(make, args.beir, args.data, lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    tables = dict(report.get("answer_sets", {}))
    if "end_to_end" in report:
        tables["end to end"] = report["end_to_end"]
    for table, rows in tables.items():
        cols = list(next(iter(rows.values())))
        print(f"\n{table}: " + " | ".join(cols))
        for label, vals in rows.items():
            print(f"{label:46}" + "".join(f"{vals[c]:>10.3f}" for c in cols))
    if "scifact" in report:
        print("\nSciFact train: nDCG@10 (half 0 / half 1), Recall@100, MRR@10")
        for r in report["scifact"]:
            print(f"{r['row']:46} {r['ndcg@10']:.4f} ({r['ndcg@10 half 0']:.4f} / {r['ndcg@10 half 1']:.4f})  {r['recall@100']:.4f}  {r['mrr@10']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
