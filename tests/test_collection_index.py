"""Article knowledge in the index: made at index time for new and changed articles only, stored
with the chunks' generation (committed, crashed and dropped with it). Real embedded Chroma in a
temp folder and the deterministic fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from index.indexer import Indexer
from index.keyword import KeywordIndex
from index.client import make_client
from index.store import ChromaStore

from conftest import FakeEmbedder, write_article

BODIES = {
    "go.md": ("Go in 2026", "## Concurrency\n\nGoroutines and channels make concurrent programs simple to write and to test.\n\n## Deployment\n\nGo apps compile to a single binary, which keeps Docker images small and fast to ship."),
    "rust.md": ("Rust in 2026", "## Speed\n\nActix Web tops benchmarks with a million requests per second on one machine.\n\n## Safety\n\nMemory safety means no crashes from leaks, which matters for game servers."),
    "python.md": ("Python in 2026", "## FastAPI\n\nFastAPI runs async out of the box and generates documentation for every endpoint.\n\n## Django\n\nDjango's admin panel lets you manage data without writing any front-end code."),
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, (title, body) in BODIES.items():
        write_article(folder, name, title, body)
    return folder


def _assistant(corpus: Path, tmp_path: Path) -> Assistant:
    return Assistant.from_settings(Settings(corpus_dir=corpus, data_dir=tmp_path / "data"), embedder=FakeEmbedder())


def _points(assistant: Assistant) -> dict[str, set[str]]:
    store = assistant.store
    out: dict[str, set[str]] = {}
    for rid, _, meta, _ in store.knowledge_records(where={"kind": "point"}):
        out.setdefault(meta["source"], set()).add(rid)
    return out


def _names(assistant: Assistant) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in assistant.store.client.list_collections()}


def test_index_stores_each_articles_points_and_names_with_the_generation(corpus: Path, tmp_path: Path):
    assistant = _assistant(corpus, tmp_path)
    report = assistant.index()
    assert report.learned == 3 and report.points > 0
    manifest = assistant.store.manifest()
    assert manifest["knowledge"] == f"articles.k{manifest['generation']}"
    assert set(_points(assistant)) == set(BODIES)
    assert set(assistant.store.knowledge_hashes()) == set(BODIES)


def test_reindex_of_one_changed_article_recomputes_only_its_points(corpus: Path, tmp_path: Path):
    assistant = _assistant(corpus, tmp_path)
    assistant.index()
    before = _points(assistant)
    write_article(corpus, "go.md", "Go in 2026", BODIES["go.md"][1] + "\n\n## Tooling\n\nThe go command vendors every module reproducibly for offline builds.")
    embedder = assistant.indexer.embedder
    embedder.calls.clear()
    report = assistant.index()
    after = _points(assistant)
    assert (report.updated, report.learned) == (1, 1)
    assert after["rust.md"] == before["rust.md"] and after["python.md"] == before["python.md"]  # copied, same ids
    assert after["go.md"] != before["go.md"]
    assert embedder.embedded == report.embedded + report.points  # nothing of the others re-embedded
    again = assistant.index()
    assert (again.learned, again.points, again.embedded) == (0, 0, 0)


def test_existing_index_without_knowledge_gets_it_once_without_re_embedding_chunks(corpus: Path, tmp_path: Path):
    store = ChromaStore(make_client(path=str(tmp_path / "data" / "chroma")), "articles", model_name=FakeEmbedder.model_id)
    from corpus.loaders import load_corpus

    articles = list(load_corpus(corpus, 10**6).articles)
    old = Indexer(store, KeywordIndex(tmp_path / "data" / "keyword" / "articles"), FakeEmbedder(), knowledge=False).sync(articles)
    assert not store.has_knowledge
    assistant = _assistant(corpus, tmp_path)
    report = assistant.index()
    assert (report.embedded, report.learned, report.chunks) == (0, 3, old.chunks)
    assert assistant.store.has_knowledge


def test_knowledge_collections_of_old_generations_are_dropped(corpus: Path, tmp_path: Path):
    assistant = _assistant(corpus, tmp_path)
    for i in range(3):
        write_article(corpus, "extra.md", "Extra", f"## Notes\n\nVersion {i} of an extra article about compilers and their parsers.")
        assistant.index()
    names = _names(assistant)
    assert len([n for n in names if n.startswith("articles.k")]) <= 2  # committed and previous
    assert len([n for n in names if n.startswith("articles.g")]) <= 2


def test_writer_killed_before_commit_leaves_the_old_knowledge(corpus: Path, tmp_path: Path):
    assistant = _assistant(corpus, tmp_path)
    assistant.index()
    before = _points(assistant)
    write_article(corpus, "go.md", "Go in 2026", "## Rewritten\n\nEverything about Go was rewritten for this edition of the article.")

    def crash(name: str) -> None:
        if name == "learned":
            raise KeyboardInterrupt  # the process dies between making knowledge and committing

    assistant.indexer.checkpoint = crash
    with pytest.raises(KeyboardInterrupt):
        assistant.index()
    reader = _assistant(corpus, tmp_path)
    reader._ensure_ready()
    assert _points(reader) == before
    assistant.indexer.checkpoint = None
    assert assistant.index().learned == 1
    assert _points(_assistant(corpus, tmp_path)) != before


def test_index_without_knowledge_answers_collection_questions_with_the_engine(corpus: Path, tmp_path: Path):
    store = ChromaStore(make_client(path=str(tmp_path / "data" / "chroma")), "articles", model_name=FakeEmbedder.model_id)
    from corpus.loaders import load_corpus

    Indexer(store, KeywordIndex(tmp_path / "data" / "keyword" / "articles"), FakeEmbedder(), knowledge=False).sync(list(load_corpus(corpus, 10**6).articles))
    answer = _assistant(corpus, tmp_path).ask("What do the articles say about memory safety?")
    assert answer.shape == "factoid"  # answered by the engine, not from missing knowledge
