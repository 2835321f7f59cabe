"""Retrieval on a BEIR-format folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``),
measured through the retriever ``assistant ask`` uses: ``assistant eval --beir DIR``.

The corpus is indexed by ``Assistant.index`` into a data folder and collection of its own
(``<data>/beir``, the collection named from a hash of the corpus file, the chunking and the
embedding model: an unchanged corpus is reused and embeds nothing, a changed one never mixes
with another). Every query then goes through ``Assistant.retrieve``: the ``HybridRetriever``
that ``build_components`` makes from the same ``Settings`` as ``ask`` (the same chunking,
candidates, fusion and query embedder). Only two things differ from a question asked in the
chat: the retriever is asked for ``chunks`` passages rather than ``Settings.k`` (so that 100
documents can be ranked; it then takes as many candidates per side), and the index is built
without article knowledge (which retrieval never reads). A document scores its best chunk.
Metrics are computed by ``ranx``: nDCG@10, Recall@100 and MRR@10; the cost is the wall time
of each ``retrieve`` call (query vector, Chroma, BM25, fusion).
"""

from __future__ import annotations

import hashlib
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation import read_jsonl
from assistant.models import Passage
from assistant.settings import Settings
from assistant.errors import AssistantError
from corpus.models import Article

__all__ = [
    "BeirSet",
    "BeirReport",
    "DEFAULT_CHUNKS",
    "load_beir",
    "beir_collection_name",
    "beir_settings",
    "doc_scores",
    "evaluate_run",
    "run_beir",
]

DEFAULT_CHUNKS = 300  # passages asked per query: ~150 distinct SciFact documents, enough for Recall@100
DEPTH = 100  # documents ranked per query


@dataclass(frozen=True)
class BeirSet:
    """A BEIR folder read into memory: documents as ``Article``s (``source`` = document id)."""

    name: str
    articles: tuple[Article, ...] = field(repr=False)
    queries: dict[str, str] = field(repr=False)
    qrels: dict[str, dict[str, int]] = field(repr=False)
    corpus_hash: str = ""


@dataclass(frozen=True)
class BeirReport:
    name: str
    metrics: dict[str, float]
    queries: int
    documents: int
    chunks: int  # chunks in the index
    embedded: int  # ... embedded by this run (0 when the index was reused)
    index_seconds: float
    chunks_per_query: int
    query_ms: tuple[float, ...] = field(repr=False, default=())  # each retrieve call's wall time
    documents_ranked: float = 0.0  # mean distinct documents per query

    def cost(self) -> dict[str, float]:
        ms = sorted(self.query_ms) or [0.0]
        return {
            "ms_p50": statistics.median(ms),
            "ms_p95": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
            "ms_mean": statistics.fmean(ms),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "ndcg@10": round(self.metrics["ndcg@10"], 4),
            "recall@100": round(self.metrics["recall@100"], 4),
            "mrr@10": round(self.metrics["mrr@10"], 4),
            "queries": self.queries,
            "documents": self.documents,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "index_seconds": round(self.index_seconds, 2),
            "chunks_per_query": self.chunks_per_query,
            "documents_ranked": round(self.documents_ranked, 1),
            **{k: round(v, 2) for k, v in self.cost().items()},
        }

    def lines(self) -> list[str]:
        m, c = self.metrics, self.cost()
        return [
            f"{self.name}: {self.queries} queries, {self.documents} documents ({self.chunks} chunks, {self.embedded} embedded now)",
            f"retriever: the one `assistant ask` uses, {self.chunks_per_query} passages a query ({self.documents_ranked:.0f} documents on average)",
            f"nDCG@10:    {m['ndcg@10']:.4f}",
            f"Recall@100: {m['recall@100']:.4f}",
            f"MRR@10:     {m['mrr@10']:.4f}",
            f"cost: p50 {c['ms_p50']:.1f} ms, p95 {c['ms_p95']:.1f} ms a query",
        ]


# -- reading ------------------------------------------------------------------------------------
def _record(obj: dict[str, Any], _no: int) -> dict[str, Any]:
    obj["_id"] = str(obj["_id"])
    return obj


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path, "BEIR", _record)


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"cannot read {path}: {exc.strerror}") from None
    qrels: dict[str, dict[str, int]] = {}
    for no, line in enumerate(lines, start=1):
        parts = line.rstrip("\n").split("\t")
        if not line.strip() or (no == 1 and parts[0] == "query-id"):
            continue
        if len(parts) < 3:
            raise AssistantError(f"{path}:{no}: expected query-id, corpus-id and score separated by tabs")
        try:
            score = int(float(parts[2]))
        except ValueError:
            raise AssistantError(f"{path}:{no}: score {parts[2]!r} is not a number") from None
        qrels.setdefault(parts[0], {})[parts[1]] = score
    return qrels


def load_beir(folder: str | Path) -> BeirSet:
    """Read a BEIR folder; ``qrels.tsv`` or the standard ``qrels/test.tsv``. Only queries that
    have judgements are kept."""
    folder = Path(folder)
    corpus_path = folder / "corpus.jsonl"
    qrels_path = folder / "qrels.tsv"
    if not qrels_path.exists() and (folder / "qrels" / "test.tsv").exists():
        qrels_path = folder / "qrels" / "test.tsv"
    for path in (corpus_path, folder / "queries.jsonl", qrels_path):
        if not path.exists():
            raise AssistantError(f"{folder} is not a BEIR folder: {path.name} is missing")
    docs = _jsonl(corpus_path)
    articles = tuple(
        Article(source=d["_id"], title=str(d.get("title") or "").strip(), text=str(d.get("text") or "").strip())
        for d in docs
    )
    qrels = _qrels(qrels_path)
    queries = {q["_id"]: str(q.get("text", "")) for q in _jsonl(folder / "queries.jsonl") if q["_id"] in qrels}
    qrels = {q: rel for q, rel in qrels.items() if q in queries}
    if not queries:
        raise AssistantError(f"{folder}: no query has relevance judgements in {qrels_path.name}")
    digest = hashlib.sha256(corpus_path.read_bytes()).hexdigest()
    return BeirSet(folder.resolve().name, articles, queries, qrels, digest)


def beir_collection_name(data: BeirSet, settings: Settings, model: str) -> str:
    """The collection for this corpus, chunking and model: same inputs, same collection."""
    key = f"{data.corpus_hash}\x00{settings.chunk_max_chars}\x00{settings.chunk_overlap_chars}\x00{model}"
    slug = re.sub(r"[^a-z0-9]+", "-", data.name.lower()).strip("-")[:24] or "set"
    return f"beir-{slug}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _model_id(settings: Settings) -> str:
    if settings.embed_backend == "onnx":
        from index.onnx_embedding import ONNX_MODEL_ID

        return ONNX_MODEL_ID
    from index.embedding import DEFAULT_MODEL

    return DEFAULT_MODEL


def beir_settings(settings: Settings, data: BeirSet, model: str | None = None) -> Settings:
    """``settings`` with the BEIR set's own data folder and collection, no article knowledge
    and the extractive engine (no answer is made); every retrieval setting is left as it is."""
    name = beir_collection_name(data, settings, model or _model_id(settings))
    return settings.with_(data_dir=settings.data_dir / "beir", collection=name, knowledge=False, engine="extractive")


# -- scoring (pure) ---------------------------------------------------------------------------
def doc_scores(passages: Iterable[Passage]) -> dict[str, float]:
    """Passages to document scores: each document scores its best passage. Pure."""
    out: dict[str, float] = {}
    for p in passages:
        if p.source not in out or p.score > out[p.source]:
            out[p.source] = float(p.score)
    return out


def _top(scores: dict[str, float], n: int) -> dict[str, float]:
    return {d: scores[d] for d in sorted(scores, key=lambda d: (-scores[d], d))[:n]}


def evaluate_run(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR@10 of ``run`` by ``ranx``; queries without results count 0."""
    from ranx import Qrels, Run, evaluate

    run = {q: (run.get(q) or {"\x00none": 0.0}) for q in qrels}
    scores = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100", "mrr@10"], make_comparable=True)
    return {k: float(v) for k, v in scores.items()}


# -- running --------------------------------------------------------------------------------
def run_beir(
    settings: Settings,
    folder: str | Path | BeirSet,
    assistant: Any = None,
    chunks: int = DEFAULT_CHUNKS,
    progress: Callable[[int, int], None] | None = None,
    run_out: dict[str, dict[str, float]] | None = None,
) -> BeirReport:
    """Index ``folder`` (reusing an unchanged index) and rank its documents for every query
    through ``assistant.retrieve``. ``assistant``: one built on ``beir_settings(settings, data)``
    (the CLI builds it as ``ask`` does); None builds it here."""
    if chunks < 1:
        raise AssistantError(f"chunks must be at least 1. Currently, chunks is {chunks}")
    data = folder if isinstance(folder, BeirSet) else load_beir(folder)
    if assistant is None:
        from assistant.core import Assistant

        s = beir_settings(settings, data)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        assistant = Assistant.from_settings(s)
    report = assistant.index(articles=data.articles, progress=progress, lock_timeout=600)
    assistant.retrieve("warm up", k=1)  # opens the index and loads the query model: not a query's cost
    run: dict[str, dict[str, float]] = {}
    query_ms: list[float] = []
    ranked: list[int] = []
    for qid, text in data.queries.items():
        started = time.perf_counter()
        passages = assistant.retrieve(text, k=chunks)
        query_ms.append((time.perf_counter() - started) * 1000)
        scores = doc_scores(passages)
        ranked.append(len(scores))
        run[qid] = _top(scores, DEPTH)
    if run_out is not None:
        run_out.update(run)
    return BeirReport(
        name=data.name,
        metrics=evaluate_run(data.qrels, run),
        queries=len(data.queries),
        documents=len(data.articles),
        chunks=report.chunks,
        embedded=report.embedded,
        index_seconds=report.seconds,
        chunks_per_query=chunks,
        query_ms=tuple(query_ms),
        documents_ranked=statistics.fmean(ranked) if ranked else 0.0,
    )
