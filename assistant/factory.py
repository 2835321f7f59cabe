"""The one place that maps ``Settings`` to heavy implementations (models, clients, stores)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.engines import AnswerEngine
from assistant.evidence import GateWeights
from assistant.extractive import ExtractiveEngine
from assistant.models import Passage
from assistant.retrieval import HybridRetriever, passage_of
from assistant.settings import Settings
from index.embedding import (
    DEFAULT_DIMENSION,
    DEFAULT_MODEL,
    Bf16Embeddings,
    Embedder,
    LazyEmbedder,
    QueryCache,
    bf16_supported,
    load_sentence_transformer_embeddings,
)
from index.indexer import Indexer
from index.keyword import KeywordIndex
from index.client import make_client
from index.store import ChromaStore

__all__ = ["Components", "build_components", "build_embedder", "build_query_embedder", "build_engine"]

_EMBEDDER_CACHE: dict[tuple[Any, ...], Any] = {}


@dataclass
class Components:
    settings: Settings
    embedder: Embedder  # bulk: indexing
    query_embedder: Embedder  # questions and answer sentences (the same vectors)
    store: ChromaStore
    keyword: KeywordIndex
    retriever: HybridRetriever
    indexer: Indexer
    engine: AnswerEngine  # the settings' engine: answers when a question names none
    engines: dict[str, AnswerEngine] = field(default_factory=dict)  # built on first use, by name


def _next_passage(keyword: KeywordIndex, passage: Passage) -> Passage | None:
    chunk = keyword.next_chunk(passage.chunk_id)
    return passage_of(chunk) if chunk is not None else None


def build_embedder(settings: Settings) -> Embedder:
    """The packaged all-MiniLM-L6-v2 for indexing, once per process: torch (loaded at its first
    use, so a process that only answers never imports torch) or the int8 ONNX model."""
    key = (DEFAULT_MODEL, settings.embed_batch_size, settings.embed_backend, settings.embed_precision)
    if key not in _EMBEDDER_CACHE and settings.embed_backend == "onnx":
        from index.onnx_embedding import OnnxEmbeddings, build_onnx_model

        path = build_onnx_model(settings.model_cache_dir / "onnx")
        _EMBEDDER_CACHE[key] = OnnxEmbeddings(path, batch_size=settings.embed_batch_size)
    if key not in _EMBEDDER_CACHE:
        batch, precision = settings.embed_batch_size, settings.embed_precision

        def load() -> Embedder:
            if precision == "bf16" or (precision == "auto" and bf16_supported()):
                return Bf16Embeddings(batch_size=batch)
            return load_sentence_transformer_embeddings(batch_size=batch)

        _EMBEDDER_CACHE[key] = LazyEmbedder(load, DEFAULT_MODEL, DEFAULT_DIMENSION)
    return _EMBEDDER_CACHE[key]


def build_query_embedder(settings: Settings, bulk: Embedder) -> Embedder:
    """What embeds questions and answer sentences. With the torch backend and
    ``query_backend="onnx"``: the fp32 ONNX export of the same model (vectors within cosine
    0.9999 of torch's, so it queries the torch-built index), built into the model cache once;
    it answers in a few milliseconds and, unlike torch, keeps its speed when the CPU is busy.
    Otherwise (or if the export cannot be built) ``bulk`` itself."""
    if settings.embed_backend != "torch" or settings.query_backend != "onnx":
        return bulk
    key = ("query", DEFAULT_MODEL, "fp32")
    if key not in _EMBEDDER_CACHE:
        import logging

        from index.onnx_embedding import OnnxEmbeddings, build_onnx_model

        try:
            path = build_onnx_model(settings.model_cache_dir / "onnx", precision="fp32")
            # batch size 1: what it embeds besides questions are an answer's ~20 candidate
            # sentences, and one at a time (no padding) took half the time of one batch of 32
            # (p50 167 vs 333 ms for 20 SciFact sentences on 2 cores; batches of 8: 192 ms)
            _EMBEDDER_CACHE[key] = QueryCache(OnnxEmbeddings(path, batch_size=1, model_id=DEFAULT_MODEL))
        except Exception as exc:  # noqa: BLE001 - a speed-up that cannot be built must not stop answers
            logging.getLogger(__name__).warning("the ONNX query model could not be built (%s); using torch", exc)
            return bulk
    return _EMBEDDER_CACHE[key]


def build_components(
    settings: Settings, embedder: Embedder | None = None, client: Any = None, query_embedder: Embedder | None = None
) -> Components:
    """Everything the assistant needs, per ``settings``. A given ``embedder`` does all the
    embedding unless ``query_embedder`` is given too (questions and answer sentences)."""
    query_embedder = query_embedder or embedder
    embedder = embedder or build_embedder(settings)
    query_embedder = query_embedder or build_query_embedder(settings, embedder)
    if client is None:
        if not settings.chroma_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        client = make_client(
            path=str(settings.chroma_path), url=settings.chroma_url, token=settings.chroma_token, ca_file=settings.chroma_ca
        )
    model_name = getattr(embedder, "model_id", None) or DEFAULT_MODEL
    store = ChromaStore(client, settings.collection, model_name=str(model_name))
    keyword_dir = settings.keyword_path
    if settings.chroma_url:
        # a cache of the server's collection, kept apart per server
        from urllib.parse import quote

        keyword_dir = settings.data_dir / "keyword" / quote(settings.chroma_url, safe="") / settings.collection
    keyword = KeywordIndex(keyword_dir)
    retriever = HybridRetriever(
        store,
        keyword,
        query_embedder,
        k=settings.k,
        candidates=settings.candidates,
        dense_weight=settings.dense_weight,
        fusion=settings.fusion,
        rrf_k=settings.rrf_k,
        lead_ratio=settings.lead_ratio,
    )
    indexer = Indexer(store, keyword, embedder, settings.chunk_max_chars, settings.chunk_overlap_chars, knowledge=settings.knowledge)
    engine = ExtractiveEngine(
        query_embedder,
        settings.min_relevance,
        settings.answer_sentences,
        gate=GateWeights() if settings.answer_gate else None,
        max_chars=settings.answer_max_chars,
    )
    components = Components(settings, embedder, query_embedder, store, keyword, retriever, indexer, engine, {"extractive": engine})
    # the keyword index is swapped when a new index generation is committed: look it up late
    engine.present = lambda tokens, sources: components.keyword.present(tokens, sources)
    engine.following = lambda passage: _next_passage(components.keyword, passage)
    engine.article = lambda source: [passage_of(c) for c in components.keyword.article_chunks(source)]
    if settings.engine != "extractive":
        components.engine = build_engine(components, settings.engine)
    return components


def build_engine(components: Components, name: str) -> AnswerEngine:
    """The engine called ``name`` (``extractive``, ``local``, ``openai``), built once per
    components; LLM engines fall back on (and refuse through) the extractive one."""
    if name not in components.engines:
        from assistant.llm.engine import build_llm_engine

        extractive = components.engines["extractive"]
        assert isinstance(extractive, ExtractiveEngine)
        settings = components.settings.with_(engine=name)
        components.engines[name] = build_llm_engine(settings, components.query_embedder, fallback=extractive)
    return components.engines[name]
