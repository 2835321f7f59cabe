"""The one place that maps ``Settings`` to heavy implementations (models, clients, stores)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.extractive import ExtractiveEngine
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from index.embedding import DEFAULT_MODEL, Embedder, load_sentence_transformer_embeddings
from index.indexer import Indexer
from index.keyword import KeywordIndex
from index.store import ChromaStore, make_client

__all__ = ["Components", "build_components", "build_embedder"]

_EMBEDDER_CACHE: dict[tuple[str, int], Any] = {}


@dataclass
class Components:
    settings: Settings
    embedder: Embedder
    store: ChromaStore
    keyword: KeywordIndex
    retriever: HybridRetriever
    indexer: Indexer
    engine: Any


def build_embedder(settings: Settings) -> Embedder:
    """The packaged all-MiniLM-L6-v2, loaded once per process."""
    key = (DEFAULT_MODEL, settings.embed_batch_size, settings.embed_backend)
    if key not in _EMBEDDER_CACHE and settings.embed_backend == "onnx":
        from index.onnx_embedding import OnnxEmbeddings, build_onnx_model

        path = build_onnx_model(settings.model_cache_dir / "onnx")
        _EMBEDDER_CACHE[key] = OnnxEmbeddings(path, batch_size=settings.embed_batch_size)
    if key not in _EMBEDDER_CACHE:
        _EMBEDDER_CACHE[key] = load_sentence_transformer_embeddings(batch_size=settings.embed_batch_size)
    return _EMBEDDER_CACHE[key]


def build_components(settings: Settings, embedder: Embedder | None = None, client: Any = None) -> Components:
    embedder = embedder or build_embedder(settings)
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
        embedder,
        k=settings.k,
        candidates=settings.candidates,
        dense_weight=settings.dense_weight,
        fusion=settings.fusion,
        rrf_k=settings.rrf_k,
    )
    indexer = Indexer(store, keyword, embedder, settings.chunk_max_chars, settings.chunk_overlap_chars)
    engine = ExtractiveEngine(embedder, settings.min_relevance, settings.answer_sentences)
    if settings.engine != "extractive":
        from assistant.llm.engine import build_llm_engine

        engine = build_llm_engine(settings, embedder, fallback=engine)
    components = Components(settings, embedder, store, keyword, retriever, indexer, engine)
    # the keyword index is swapped when a new index generation is committed: look it up late
    extractive = getattr(engine, "fallback", None) or engine
    if isinstance(extractive, ExtractiveEngine):
        extractive.known_term = lambda word: components.keyword.knows(word)
    return components
