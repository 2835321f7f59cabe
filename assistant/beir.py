"""Evaluation on a BEIR-format folder: ``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``.

The corpus is indexed by the normal pipeline (chunking, embedding, Chroma, BM25) into its own
collection, named from a hash of the corpus file and the chunking, so an unchanged corpus is
reused (the incremental indexer embeds nothing) and a changed one never mixes with another.
Retrieval has two sides. Dense: Chroma searches over two chunkings of the corpus (800 and 300
characters, two collections); a document scores a blend of its best chunk of each. Keyword: BM25
over whole documents (an in-memory index), or over the 800-character chunks. The two document
rankings are fused, then the query vector is moved towards the best fused document (Rocchio) and
the dense side searched again. Metrics are computed by ``ranx``: nDCG@10, Recall@100 and MRR@10.

The parameters here (``BeirParams``) are tuned for BEIR on SciFact's train queries and passed
to the retriever explicitly; the assistant's own defaults in ``Settings`` are left alone.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.evaluation import read_jsonl
from assistant.fusion import convex_fusion, weighted_rrf
from assistant.settings import Settings
from corpus.errors import AssistantError
from corpus.models import Article, Chunk

__all__ = ["BeirSet", "BeirParams", "BeirReport", "load_beir", "beir_collection_name", "doc_scores", "fuse_docs", "blend_scores", "document_chunks", "unit_mean", "rocchio", "evaluate_run", "run_beir"]

MODES = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class BeirSet:
    """A BEIR folder read into memory: documents as ``Article``s (``source`` = document id)."""

    name: str
    articles: tuple[Article, ...] = field(repr=False)
    queries: dict[str, str] = field(repr=False)
    qrels: dict[str, dict[str, int]] = field(repr=False)
    corpus_hash: str = ""


@dataclass(frozen=True)
class BeirParams:
    """Retrieval for document-level relevance; tuned on SciFact train (see README)."""

    chunk_max_chars: int = 800
    chunk_overlap_chars: int = 200
    candidates: int = 1000  # chunks taken from each side before grouping them by document (300: Recall@100 0.941)
    depth: int = 100  # documents ranked per query (Recall@100 needs 100)
    # tuned on SciFact train: convex (max-normalised) 0.740 nDCG@10 at 0.6-0.75, flat around it;
    # RRF peaked at 0.730 (k=10) and 0.722 at the assistant's k=60
    fusion: str = "convex"
    dense_weight: float = 0.7
    # a second, finer index for the dense side: chunks of at most 300 characters (about one or
    # two sentences, each embedded with the title), no overlap; a document's dense score is
    # (1 - fine_weight) x its best 800-character chunk + fine_weight x its best fine chunk.
    # SciFact train, dense alone: 800 0.691, 300 0.696, half and half 0.704; fused with
    # whole-document BM25 at 0.7: fine_weight 0.5 0.7508, 0.4/0.6 0.748-0.749 (0 = no fine index)
    fine_chunk_max_chars: int = 300
    fine_chunk_overlap_chars: int = 0
    fine_weight: float = 0.5
    # the keyword side over whole documents ("document", title + abstract as one text) or over
    # the 800-character chunks ("chunk"). BM25 alone: 0.698 vs 0.690; fused with the blended
    # dense side at 0.7: 0.7508 vs 0.7436
    keyword_unit: str = "document"
    rrf_k: int = 60
    mode: str = "hybrid"
    # dense pseudo-relevance feedback (Rocchio): the query vector plus ``feedback_weight`` times
    # the mean chunk vector of the ``feedback_docs`` best fused documents, searched again.
    # SciFact train (dense 0.7 convex): 0 docs 0.7399 nDCG@10; 1 doc at 0.3 0.7446, at 0.5
    # 0.7443, at 1.0 0.7406; 3 docs at 0.5 0.7422; 5 at 0.5 0.7433; 10 docs 0.735-0.736.
    # Hybrid only: fed back from the dense ranking alone it lowers dense 0.691 to 0.687.
    feedback_docs: int = 1
    feedback_weight: float = 0.3

    def validated(self) -> BeirParams:
        if self.mode not in MODES:
            raise AssistantError(f"mode must be one of {', '.join(MODES)}. Currently, mode is {self.mode!r}")
        if self.fusion not in ("rrf", "convex"):
            raise AssistantError(f"fusion must be 'rrf' or 'convex'. Currently, fusion is {self.fusion!r}")
        if self.keyword_unit not in ("document", "chunk"):
            raise AssistantError(f"keyword_unit must be 'document' or 'chunk'. Currently, keyword_unit is {self.keyword_unit!r}")
        if not 0.0 <= self.fine_weight <= 1.0:
            raise AssistantError(f"fine_weight must be between 0 and 1. Currently, fine_weight is {self.fine_weight}")
        if self.feedback_docs < 0 or self.feedback_weight < 0:
            raise AssistantError(
                f"feedback_docs and feedback_weight must not be negative. Currently, they are {self.feedback_docs} and {self.feedback_weight}"
            )
        if self.depth < 1 or self.candidates < 1:
            raise AssistantError(f"depth and candidates must be positive. Currently, they are {self.depth} and {self.candidates}")
        return self


@dataclass(frozen=True)
class BeirReport:
    name: str
    mode: str
    metrics: dict[str, float]
    queries: int
    documents: int
    chunks: int
    embedded: int
    index_seconds: float
    search_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "ndcg@10": round(self.metrics["ndcg@10"], 4),
            "recall@100": round(self.metrics["recall@100"], 4),
            "mrr@10": round(self.metrics["mrr@10"], 4),
            "queries": self.queries,
            "mode": self.mode,
            "documents": self.documents,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "index_seconds": round(self.index_seconds, 2),
            "search_seconds": round(self.search_seconds, 2),
        }

    def lines(self) -> list[str]:
        m = self.metrics
        return [
            f"{self.name}: {self.queries} queries, {self.documents} documents ({self.chunks} chunks, {self.embedded} embedded now), {self.mode}",
            f"nDCG@10:    {m['ndcg@10']:.4f}",
            f"Recall@100: {m['recall@100']:.4f}",
            f"MRR@10:     {m['mrr@10']:.4f}",
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


def beir_collection_name(data: BeirSet, params: BeirParams, model: str) -> str:
    """The collection for this corpus, chunking and model: same inputs, same collection."""
    key = f"{data.corpus_hash}\x00{params.chunk_max_chars}\x00{params.chunk_overlap_chars}\x00{model}"
    slug = re.sub(r"[^a-z0-9]+", "-", data.name.lower()).strip("-")[:24] or "set"
    return f"beir-{slug}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


# -- scoring (pure) ---------------------------------------------------------------------------
def doc_scores(hits: Sequence[tuple[Chunk, float]]) -> dict[str, float]:
    """Chunk hits to document scores: each document scores its best chunk. Pure."""
    out: dict[str, float] = {}
    for chunk, score in hits:
        if chunk.source not in out or score > out[chunk.source]:
            out[chunk.source] = float(score)
    return out


def _ranking(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda d: (-scores[d], d))


def fuse_docs(dense: dict[str, float], keyword: dict[str, float], params: BeirParams) -> dict[str, float]:
    """One document score from the two sides' document scores, per ``params``. Pure."""
    if params.mode == "dense":
        return dict(dense)
    if params.mode == "keyword":
        return dict(keyword)
    w = params.dense_weight
    if params.fusion == "rrf":
        return weighted_rrf([_ranking(dense), _ranking(keyword)], [w, 1.0 - w], params.rrf_k)
    return convex_fusion([dense, keyword], [w, 1.0 - w])


def blend_scores(first: dict[str, float], second: dict[str, float], weight: float) -> dict[str, float]:
    """``weight`` x ``first`` + (1 - ``weight``) x ``second`` for every document in either; a
    document missing from one takes that side's lowest score (it ranked below all of them). Pure."""
    if not first or not second:
        return dict(first or second)
    low_first, low_second = min(first.values()), min(second.values())
    return {
        d: weight * first.get(d, low_first) + (1.0 - weight) * second.get(d, low_second)
        for d in first.keys() | second.keys()
    }


def document_chunks(articles: Sequence[Article]) -> list[Chunk]:
    """Each article as one chunk (title + whole text), for a keyword index over documents. Pure."""
    return [
        Chunk(id=a.source, source=a.source, title=a.title, section="", text=a.text, start=0, end=len(a.text), index=0)
        for a in articles
    ]


def unit_mean(vectors: Sequence[Sequence[float]]) -> list[float]:
    """The mean of ``vectors`` scaled to length 1 (a document's vector from its chunks'). Pure."""
    import numpy as np

    if len(vectors) == 0:
        raise ValueError("unit_mean needs at least one vector")
    mean = np.asarray(vectors, dtype=np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).tolist() if norm > 0 else mean.tolist()


def rocchio(query: Sequence[float], feedback: Sequence[Sequence[float]], weight: float) -> list[float]:
    """Pseudo-relevance feedback: the unit query vector plus ``weight`` times the mean of the
    ``feedback`` vectors, scaled to length 1. No feedback or weight 0: the query itself. Pure."""
    import numpy as np

    q = np.asarray(query, dtype=np.float64)
    q = q / (float(np.linalg.norm(q)) or 1.0)
    if len(feedback) and weight:
        q = q + weight * np.asarray(feedback, dtype=np.float64).mean(axis=0)
        q = q / (float(np.linalg.norm(q)) or 1.0)
    return q.tolist()


def evaluate_run(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR@10 of ``run`` by ``ranx``; queries without results count 0."""
    from ranx import Qrels, Run, evaluate

    run = {q: (run.get(q) or {"\x00none": 0.0}) for q in qrels}
    scores = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100", "mrr@10"], make_comparable=True)
    return {k: float(v) for k, v in scores.items()}


# -- running --------------------------------------------------------------------------------
def _top(scores: dict[str, float], n: int) -> dict[str, float]:
    return {d: scores[d] for d in _ranking(scores)[:n]}


def _doc_vectors(store: Any) -> Callable[[str], list[float]]:
    """A document's vector (its chunks' unit mean), read from the store on first use."""
    cache: dict[str, list[float]] = {}

    def get(source: str) -> list[float]:
        if source not in cache:
            cache[source] = unit_mean(store.source_vectors(source))
        return cache[source]

    return get


def run_beir(
    settings: Settings,
    folder: str | Path,
    params: BeirParams | None = None,
    embedder: Any = None,
    progress: Callable[[int, int], None] | None = None,
    run_out: dict[str, dict[str, float]] | None = None,
) -> BeirReport:
    """Index ``folder`` (reusing an unchanged index) and evaluate retrieval on its queries."""
    from filelock import FileLock, Timeout

    from assistant.factory import build_components, build_embedder
    from corpus.errors import IndexStateError
    from index.embedding import DEFAULT_MODEL
    from index.keyword import KeywordIndex

    params = (params or BeirParams()).validated()
    data = load_beir(folder)
    embedder = embedder or build_embedder(settings)
    model = str(getattr(embedder, "model_id", None) or DEFAULT_MODEL)

    def indexed(p: BeirParams) -> tuple[Any, Any]:
        # its own data folder: its own embedded Chroma (one writer per folder) and its own lock
        s = settings.with_(
            data_dir=settings.data_dir / "beir",
            collection=beir_collection_name(data, p, model),
            chunk_max_chars=p.chunk_max_chars,
            chunk_overlap_chars=p.chunk_overlap_chars,
        )
        s.data_dir.mkdir(parents=True, exist_ok=True)
        c = build_components(s, embedder=embedder)
        try:
            with FileLock(str(s.lock_path), timeout=600):
                return c, c.indexer.sync(list(data.articles), progress=progress)
        except Timeout:
            raise IndexStateError(f"another indexing run holds {s.lock_path}; wait for it to finish") from None

    c, report = indexed(params)
    chunks, embedded, index_seconds = report.chunks, report.embedded, report.seconds
    fine = None
    if params.fine_chunk_max_chars and params.mode != "keyword":
        fine, fine_report = indexed(
            replace(params, chunk_max_chars=params.fine_chunk_max_chars, chunk_overlap_chars=params.fine_chunk_overlap_chars)
        )
        chunks, embedded = chunks + fine_report.chunks, embedded + fine_report.embedded
        index_seconds += fine_report.seconds
    retriever = c.retriever
    keyword_index = retriever.keyword
    if params.keyword_unit == "document" and params.mode != "dense":
        keyword_index = KeywordIndex()
        keyword_index.build(document_chunks(data.articles))
    started = time.perf_counter()
    qids = list(data.queries)
    vectors = embedder.embed_documents([data.queries[q] for q in qids]) if params.mode != "keyword" else [None] * len(qids)
    doc_vectors = _doc_vectors(c.store)

    def dense_side(text: str, vector: Any) -> dict[str, float]:
        coarse = doc_scores(retriever.dense(text, params.candidates, vector=vector))
        if fine is None:
            return coarse
        return blend_scores(coarse, doc_scores(fine.retriever.dense(text, params.candidates, vector=vector)), 1.0 - params.fine_weight)

    run: dict[str, dict[str, float]] = {}
    for qid, vector in zip(qids, vectors):
        text = data.queries[qid]
        dense = dense_side(text, vector) if params.mode != "keyword" else {}
        keyword = doc_scores(keyword_index.search(text, params.candidates)) if params.mode != "dense" else {}
        fused = fuse_docs(dense, keyword, params)
        if params.feedback_docs and params.feedback_weight and params.mode == "hybrid" and fused:
            feedback = [doc_vectors(d) for d in _ranking(fused)[: params.feedback_docs]]
            dense = dense_side(text, rocchio(vector, feedback, params.feedback_weight))
            fused = fuse_docs(dense, keyword, params)
        run[qid] = _top(fused, params.depth)
    search_seconds = time.perf_counter() - started
    if run_out is not None:
        run_out.update(run)
    return BeirReport(
        name=data.name,
        mode=params.mode,
        metrics=evaluate_run(data.qrels, run),
        queries=len(qids),
        documents=len(data.articles),
        chunks=chunks,
        embedded=embedded,
        index_seconds=index_seconds,
        search_seconds=search_seconds,
    )
