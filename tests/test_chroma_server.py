"""Integration tests against a real Chroma server (`chroma run`), started once for this module
on a free port of 127.0.0.1 and stopped by its PID. Index, incremental re-index and ask run
through the same ``Assistant`` API as with the embedded store."""

from __future__ import annotations

import http.server
import json
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.core import Assistant
from assistant.settings import Settings
from corpus.errors import IndexStateError
from index.store import make_client

from conftest import free_port, serve_process, write_article

pytestmark = pytest.mark.slow



def _chroma_cli() -> str:
    local = Path(sys.executable).parent / "chroma"
    found = str(local) if local.exists() else shutil.which("chroma")
    assert found, "the `chroma` command of the chromadb package is not installed"
    return found


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """URL of a fresh `chroma run` server; waits for its heartbeat, stops it by PID after."""
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [_chroma_cli(), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)]
    for _ in serve_process(cmd, f"{url}/api/v2/heartbeat", path / "server.log", "chroma server", timeout=90):
        yield url


_COUNTER = iter(range(1_000_000))


@pytest.fixture
def server_settings(chroma_server: str, tiny_corpus: Path, tmp_path: Path):
    """Settings factory: one collection per test on the shared server, a data dir per 'machine'."""
    collection = f"test-{next(_COUNTER)}-{int(time.time() * 1000) % 100000}"

    def make(machine: str = "a") -> Settings:
        return Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / f"machine-{machine}", chroma_url=chroma_server, collection=collection)

    return make


def _sources(passages) -> list[tuple[str, str]]:
    return [(p.source, p.chunk_id) for p in passages]


def test_server_index_then_ask_answers_from_the_server(server_settings, real_embedder):
    assistant = Assistant.from_settings(server_settings(), embedder=real_embedder)
    report = assistant.index()
    assert report.added == 3 and report.embedded == report.chunks > 0
    answer = assistant.ask("How many requests per second does Actix Web hit?")
    assert not answer.refused
    assert any(c.source == "rust.md" for c in answer.citations)
    # nothing of the index lives in the local data dir but the keyword cache
    assert not (server_settings().data_dir / "chroma").exists()


def test_server_reindex_unchanged_embeds_nothing(server_settings, real_embedder):
    assistant = Assistant.from_settings(server_settings(), embedder=real_embedder)
    first = assistant.index()
    again = assistant.index()
    assert again.embedded == 0 and again.unchanged == 3 and again.chunks == first.chunks


def test_server_reindex_after_edit_embeds_only_the_edited_article(server_settings, real_embedder, tiny_corpus):
    assistant = Assistant.from_settings(server_settings(), embedder=real_embedder)
    assistant.index()
    write_article(tiny_corpus, "python.md", "Python in 2026", "## FastAPI\n\nFastAPI runs async out of the box. Litestar is a newer rival with msgspec models.")
    report = assistant.index()
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 2)
    python_chunks = [p for p in assistant.retrieve("Litestar msgspec models", k=10) if p.source == "python.md"]
    assert report.embedded == len({p.chunk_id for p in python_chunks}) >= 1
    assert "Litestar" in assistant.retrieve("Litestar msgspec", k=1)[0].text


def test_server_reindex_after_delete_removes_its_chunks(server_settings, real_embedder, tiny_corpus):
    assistant = Assistant.from_settings(server_settings(), embedder=real_embedder)
    assistant.index()
    (tiny_corpus / "go.md").unlink()
    report = assistant.index()
    assert report.removed == 1 and report.embedded == 0
    fresh = Assistant.from_settings(server_settings("b"), embedder=real_embedder)
    assert all(p.source != "go.md" for p in fresh.retrieve("goroutines channels Go binary Docker", k=20))
    assert "go.md" not in {s for s, _ in fresh.articles()}


def test_server_two_assistants_on_one_server_agree(server_settings, real_embedder, tiny_corpus):
    writer = Assistant.from_settings(server_settings("a"), embedder=real_embedder)
    writer.index()
    reader = Assistant.from_settings(server_settings("b"), embedder=real_embedder)
    question = "Which framework lets you manage data without front-end work?"
    assert _sources(reader.retrieve(question)) == _sources(writer.retrieve(question))
    # the writer changes the collection; a reader whose keyword cache is now stale rebuilds it
    write_article(tiny_corpus, "django.md", "Django admin", "## Admin\n\nThe Django admin panel manages data without front-end work, for free.")
    writer.index()
    later = Assistant.from_settings(server_settings("b"), embedder=real_embedder)
    got = _sources(later.retrieve(question))
    assert got == _sources(writer.retrieve(question))
    assert "django.md" in {s for s, _ in got}


def test_server_cli_index_and_ask_with_chroma_url(server_settings, real_embedder, monkeypatch):
    from assistant import cli as cli_module

    settings = server_settings()
    monkeypatch.setattr(cli_module, "_assistant", lambda s: Assistant.from_settings(s.with_(collection=settings.collection), embedder=real_embedder))
    common = ["--corpus", str(settings.corpus_dir), "--data", str(settings.data_dir), "--chroma-url", settings.chroma_url]
    result = CliRunner().invoke(cli_module.cli, ["index", *common, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 3
    result = CliRunner().invoke(cli_module.cli, ["ask", *common, "--json", "What keeps Docker images small?"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert not answer["refused"]


def test_make_client_unreachable_server_raises_index_state_error():
    with pytest.raises(IndexStateError, match="Chroma server"):
        make_client(url=f"http://127.0.0.1:{free_port()}")


def test_make_client_bad_url_raises_index_state_error():
    with pytest.raises(IndexStateError, match="not of the form"):
        make_client(url="ftp://example")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        _Recorder.seen.append(dict(self.headers))
        body = b'{"error":"Unauthorized","message":"bad token"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_make_client_with_token_sends_it_and_reports_a_refusal():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(IndexStateError, match="Chroma server"):
            client = make_client(url=url, token="s3cret")
            client.heartbeat()
        headers = {k.lower(): v for k, v in _Recorder.seen[-1].items()}
        assert headers["authorization"] == "Bearer s3cret"
        assert headers["x-chroma-token"] == "s3cret"
    finally:
        server.shutdown()
        server.server_close()
