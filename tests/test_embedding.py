"""LazyEmbedder: the bulk model is loaded only when something must be embedded."""

from __future__ import annotations

from pathlib import Path

from conftest import FakeEmbedder

from index.embedding import LazyEmbedder


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
