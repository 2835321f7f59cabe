"""langchain-tests' standard retriever suite against the project's retriever (real model, real Chroma)."""

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant import Assistant, Settings
from assistant.langchain_retriever import ArticleRetriever
from tests.conftest import CORPUS

_ASSISTANT = {}


@pytest.fixture(scope="module", autouse=True)
def _indexed(tmp_path_factory, real_embedder):
    assistant = Assistant.from_settings(Settings(corpus_dir=CORPUS, data_dir=tmp_path_factory.mktemp("lc") / "data"), embedder=real_embedder)
    assistant.index()
    _ASSISTANT["a"] = assistant
    yield
    _ASSISTANT.clear()


class TestArticleRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[ArticleRetriever]:
        return ArticleRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"assistant": _ASSISTANT["a"]}

    @property
    def retriever_query_example(self) -> str:
        return "Which Rust framework hits a million requests per second?"
