"""LazyEmbedder: the bulk model is loaded only when something must be embedded."""

from __future__ import annotations

from pathlib import Path

from conftest import FakeEmbedder

from index.embedding import LazyEmbedder, QueryCache


def _lazy(built: list[FakeEmbedder]) -> LazyEmbedder:
    def build() -> FakeEmbedder:
        built.append(FakeEmbedder())
        return built[-1]

    return LazyEmbedder(build, FakeEmbedder.model_id, FakeEmbedder.dimension)


def test_lazy_embedder_builds_once_on_first_use():
    built: list[FakeEmbedder] = []
    lazy = _lazy(built)
    assert not lazy.loaded and built == []
    assert lazy.embed_query("go") == FakeEmbedder().embed_query("go")
    lazy.embed_documents(["a", "b"])
    assert lazy.loaded and len(built) == 1 and built[0].calls == [2]


def test_lazy_embedder_unchanged_reindex_never_loads_the_model(tiny_corpus: Path, settings_for):
    from assistant.core import Assistant
    from assistant.factory import build_components

    settings = settings_for(tiny_corpus)
    first: list[FakeEmbedder] = []
    assert Assistant(build_components(settings, embedder=_lazy(first))).index().embedded > 0
    again: list[FakeEmbedder] = []
    lazy = _lazy(again)
    assistant = Assistant(build_components(settings, embedder=lazy))
    report = assistant.index()
    assert report.embedded == 0 and report.chunks > 0
    assert not lazy.loaded  # the dimension check used the declared dimension
    (tiny_corpus / "go.md").write_text((tiny_corpus / "go.md").read_text() + "\nGo 1.26 adds faster maps.\n")
    assert assistant.index().embedded > 0 and lazy.loaded


def test_query_cache_embeds_a_repeated_question_once_and_forgets_the_oldest():
    class Counting(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.queries: list[str] = []

        def embed_query(self, text: str) -> list[float]:
            self.queries.append(text)
            return super().embed_query(text)

    inner = Counting()
    cache = QueryCache(inner, size=2)
    first = cache.embed_query("go")
    first.append(99.0)  # callers may change what they get; the cache keeps its own copy
    assert cache.embed_query("go") == inner._vec("go")
    cache.embed_query("rust")
    cache.embed_query("python")  # "go" is the oldest now: dropped
    cache.embed_query("go")
    assert inner.queries == ["go", "rust", "python", "go"]
    assert cache.embed_documents(["a b"]) == inner.embed_documents(["a b"]) and cache.model_id == "fake-sha256"
