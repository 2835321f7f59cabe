"""Integration: the real packaged model and a real embedded Chroma in a temp folder."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.langchain_retriever import ArticleRetriever
from tests.conftest import CORPUS, DEV_QUESTIONS, REPO, write_article

pytestmark = pytest.mark.slow


class CountingEmbedder:
    """The real model, counting what it embeds."""

    def __init__(self, inner):
        self.inner = inner
        self.documents = 0

    def embed_documents(self, texts):
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def test_pipeline_incremental_index_embeds_only_what_changed(corpus_copy: Path, tmp_path: Path, real_embedder):
    emb = CountingEmbedder(real_embedder)
    settings = Settings(corpus_dir=corpus_copy, data_dir=tmp_path / "data")
    assistant = Assistant.from_settings(settings, embedder=emb)

    first = assistant.index()
    assert (first.added, first.updated, first.removed, first.unchanged) == (5, 0, 0, 0)
    assert first.chunks == first.embedded > 50 and emb.documents == first.embedded + first.points  # chunks, then key points
    assert first.learned == 5 and first.points > 0

    emb.documents = 0
    again = assistant.index()
    assert (again.added, again.updated, again.removed, again.unchanged, again.embedded) == (0, 0, 0, 5, 0)
    assert again.chunks == first.chunks and emb.documents == 0
    assert "nothing changed" in again.summary()

    # edit one article: only its chunks are embedded again
    target = corpus_copy / "selecting-your-2026-backend-foundation.md"
    target.write_text(target.read_text().replace("Actix Web tops benchmarks", "Actix Web still tops benchmarks"))
    edited = assistant.index()
    assert (edited.added, edited.updated, edited.unchanged) == (0, 1, 4)
    assert 0 < edited.embedded < 30 and edited.chunks == first.chunks
    assert edited.learned == 1 and 0 < edited.points < first.points  # only its key points are made again
    answer = assistant.ask("Which Rust framework hits a million requests per second?")
    assert any("Actix Web still tops benchmarks" in c.text for c in answer.citations)

    # delete one: its chunks are gone
    (corpus_copy / "eleorex-backend-framework-trends-2026.md").unlink()
    removed = assistant.index()
    assert (removed.removed, removed.embedded) == (1, 0)
    assert removed.chunks < first.chunks
    assert all(p.source != "eleorex-backend-framework-trends-2026.md" for p in assistant.retrieve("Built-In Security Features", k=20))

    # a new article is found by both retrievers
    write_article(corpus_copy, "new.md", "Zig notes", "## Zig\n\nZig has a deterministic memory model and comptime generics.")
    added = assistant.index()
    assert added.added == 1 and added.embedded >= 1
    assert assistant.retrieve("comptime generics", k=1)[0].source == "new.md"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, real_embedder):
    tmp = tmp_path_factory.mktemp("indexed")
    settings = Settings(corpus_dir=CORPUS, data_dir=tmp / "data")
    assistant = Assistant.from_settings(settings, embedder=real_embedder)
    assistant.index()
    return assistant


def test_ask_answer_cites_real_passages(indexed):
    answer = indexed.ask("Which Rust framework hits a million requests per second?")
    assert not answer.refused and "Actix" in answer.text
    assert answer.citations and all(c.text in Path(CORPUS / c.source).read_text() for c in answer.citations)
    assert any("1 million requests per second" in c.text for c in answer.citations)


def test_ask_follow_up_uses_history(indexed):
    first = indexed.ask("Tell me about Elixir Phoenix.")
    follow = indexed.ask("How many users can it handle live?", history=[("Tell me about Elixir Phoenix.", first.text)])
    assert "100,000" in follow.text


def test_ask_unanswerable_refuses_without_citations(indexed):
    answer = indexed.ask("How do I configure TLS certificates in nginx?")
    assert answer.refused and not answer.citations


def test_retrieve_scores_higher_is_better_and_filter_restricts(indexed):
    passages = indexed.retrieve("polyglot persistence", k=5)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert "polyglot persistence" in passages[0].text
    only = indexed.retrieve("polyglot persistence", k=5, sources=["best-backend-frameworks-2026.md"])
    assert only and all(p.source == "best-backend-frameworks-2026.md" for p in only)


def test_eval_dev_set_stays_above_alarm_floors(indexed):
    # floors well below the measured figures (docs/answers.md), as an alarm: targets live in the
    # eval reports, not here (the gate and answer weights were fitted with this set among others)
    from assistant.evaluation import load_questions, run_eval

    if not DEV_QUESTIONS.exists():
        pytest.fail(f"dev questions not found at {DEV_QUESTIONS}")
    m = run_eval(indexed, load_questions(DEV_QUESTIONS), k=5).metrics
    assert m["hit@k"] >= 0.8
    assert m["answer_correctness"] >= 0.7
    assert m["refusals_correct"] >= 1 and m["false_refusals"] <= 4


def test_langchain_retriever_returns_documents_with_metadata(indexed):
    docs = ArticleRetriever(assistant=indexed, k=2).invoke("Goroutines and channels")
    assert len(docs) == 2 and docs[0].metadata["title"] and docs[0].metadata["score"] > 0


def test_cli_index_ask_and_eval_json(tmp_path: Path):
    env = {"ASSISTANT_DATA": str(tmp_path / "data"), "ASSISTANT_CORPUS": str(CORPUS), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    exe = [sys.executable, "-m", "assistant"]
    out = subprocess.run(exe + ["index", "--json"], env=env, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report) == {"added", "updated", "removed", "unchanged", "chunks", "embedded", "seconds"} and report["added"] == 5
    out = subprocess.run(exe + ["ask", "--json", "What is polyglot persistence?"], env=env, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"question", "answer", "refused", "reason", "engine", "citations"} <= set(data) and not data["refused"]
    assert {"n", "title", "source", "text", "score"} <= set(data["citations"][0])
    out = subprocess.run(exe + ["ask", "   "], env=env, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode != 0 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    out = subprocess.run(exe + ["ask", "x", "--data", str(tmp_path / "empty")], env=env, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode != 0 and "assistant index" in out.stderr and "Traceback" not in out.stderr
