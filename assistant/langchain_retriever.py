"""The hybrid retriever as a LangChain ``BaseRetriever``, for use in LangChain pipelines."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

__all__ = ["ArticleRetriever"]


class ArticleRetriever(BaseRetriever):
    """Wraps ``Assistant.retrieve``: ``k`` passages as ``Document``s whose metadata carries
    ``title``, ``source``, ``section``, ``score`` (higher is better) and ``chunk_id``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any
    k: int = 5
    sources: list[str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        sources = kwargs.get("sources", self.sources)
        passages = self.assistant.retrieve(query, k=k, sources=sources)
        return [
            Document(
                page_content=p.text,
                id=p.chunk_id,
                metadata={
                    "title": p.title,
                    "source": p.source,
                    "section": p.section,
                    "score": p.score,
                    "chunk_id": p.chunk_id,
                    "start": p.start,
                    "end": p.end,
                },
            )
            for p in passages
        ]
