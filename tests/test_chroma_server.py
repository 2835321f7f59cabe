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
from index.client import make_client

from conftest import FakeEmbedder, free_port, serve_process, write_article

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


# -- two writers on one server ------------------------------------------------------------------
# Each "machine" is an Assistant with its own data folder (so the local file lock never sees
# the other) and the deterministic fake embedder; the server, its collections and the lease are
# the real ones.


def _machine(server_settings, name: str) -> Assistant:
    return Assistant.from_settings(server_settings(name), embedder=FakeEmbedder())


def _names(assistant: Assistant) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in assistant.store.client.list_collections()}


def _paused_index(assistant: Assistant, stop: str):
    """Run ``assistant.index()`` in a thread that stops at checkpoint ``stop`` until released."""
    reached, go, result = threading.Event(), threading.Event(), {}

    def checkpoint(name: str) -> None:
        if name == stop and not reached.is_set():
            reached.set()
            go.wait(60)

    def run() -> None:
        try:
            result["report"] = assistant.index()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            result["error"] = exc

    assistant.indexer.checkpoint = checkpoint
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert reached.wait(60), result
    return go, thread, result


def test_server_second_writer_refused_while_first_holds_lease_then_waits_for_it(server_settings):
    a, b = _machine(server_settings, "a"), _machine(server_settings, "b")
    go, thread, result = _paused_index(a, "embedded")
    try:
        with pytest.raises(IndexStateError) as refused:
            b.index()
        message = str(refused.value)
        assert "another writer" in message and "assistant index" in message and len(message.splitlines()) == 1
        # with a timeout, the second writer waits for the first to finish, then finds nothing to do
        threading.Timer(1.0, go.set).start()
        report = b.index(lock_timeout=60)
    finally:
        go.set()
        thread.join(60)
    assert "error" not in result, result
    assert result["report"].added == 3
    assert (report.unchanged, report.embedded, report.chunks) == (3, 0, result["report"].chunks)
    assert b.retrieve("goroutines channels", k=1)[0].source == "go.md"
    assert b.store.read_lease()["owner"] == ""  # released at the end


@pytest.mark.parametrize(("stop", "rebuild"), [("embedded", True), ("written", False)])
def test_server_commit_race_refuses_later_commit_and_drops_its_generation(server_settings, tiny_corpus, stop, rebuild):
    """Both writers believe they hold the lease (the race the lease cannot exclude): A runs
    the indexer without one; B indexes and commits while A is stopped at ``stop``."""
    from corpus.loaders import load_corpus

    a, b = _machine(server_settings, "a"), _machine(server_settings, "b")
    a.index()
    committed = a.store.manifest()["generation"]
    write_article(tiny_corpus, "django.md", "Django admin", "## Admin\n\nThe Django admin panel manages data without front-end work.")
    seen: dict[str, set[str]] = {}
    b.indexer.checkpoint = lambda name: seen.setdefault(name, _names(b))

    def checkpoint(name: str) -> None:
        if name == stop and "a" not in seen:
            seen["a"] = _names(a)
            b.index()

    a.indexer.batch_size = 1
    a.indexer.checkpoint = checkpoint
    ours = f"{a.settings.collection}.g{committed + 1}"
    with pytest.raises(IndexStateError, match=rf"another writer committed generation {committed + 2} .*run `assistant index` again"):
        a.indexer.sync(list(load_corpus(tiny_corpus).articles), rebuild=rebuild)
    assert ours in seen["a"] and ours in seen["begun"]  # B's first clean-up left A's generation alone
    assert ours not in _names(a)
    assert a.store.manifest()["generation"] == committed + 2  # B's commit stands
    reader = _machine(server_settings, "c")
    assert "django.md" in {s for s, _ in reader.articles()}
    assert reader.retrieve("Django admin panel front-end", k=1)[0].source == "django.md"
    assert a.index().embedded == 0  # run again: A is in step with nothing to embed


def test_server_expired_lease_of_killed_writer_is_taken_over(server_settings, tiny_corpus):
    a, b = _machine(server_settings, "a"), _machine(server_settings, "b")
    a.index()
    store = a.store
    leftover = f"{a.settings.collection}.g{store.manifest()['generation'] + 1}"
    store.client.create_collection(leftover, embedding_function=None)  # the killed writer's generation
    dead = {"owner": "dead-host:4242:deadbeef", "generation": store.manifest()["generation"] + 1}
    store.write_lease({**dead, "expires": time.time() + 60})
    write_article(tiny_corpus, "django.md", "Django admin", "## Admin\n\nThe Django admin panel manages data without front-end work.")
    with pytest.raises(IndexStateError, match="dead-host:4242:deadbeef"):
        b.index()  # live: refused
    assert leftover in _names(b)
    store.write_lease({**dead, "expires": time.time() - 1})
    report = b.index()
    assert (report.added, report.unchanged) == (1, 3)
    assert store.read_lease()["owner"] == ""
    assert leftover not in _names(b)
    assert b.retrieve("Django admin panel front-end", k=1)[0].source == "django.md"


def test_server_writer_whose_expired_lease_was_taken_over_cannot_commit(server_settings, tiny_corpus):
    a, b = _machine(server_settings, "a"), _machine(server_settings, "b")
    a.index()
    write_article(tiny_corpus, "django.md", "Django admin", "## Admin\n\nThe Django admin panel manages data without front-end work.")
    taken: list = []

    def checkpoint(name: str) -> None:  # A stalls past its lease time; B takes over meanwhile
        if name == "written" and not taken:
            store = a.store
            store.write_lease({**store.read_lease(), "expires": time.time() - 1})
            taken.append(_paused_index(b, "embedded"))

    a.indexer.checkpoint = checkpoint
    ours = f"{a.settings.collection}.g{a.store.manifest()['generation'] + 1}"
    with pytest.raises(IndexStateError, match="taken over by another writer") as lost:
        a.index()
    assert len(str(lost.value).splitlines()) == 1
    assert ours not in _names(a)
    go, thread, result = taken[0]
    go.set()
    thread.join(60)
    assert result["report"].added == 1
    assert a.retrieve("Django admin panel front-end", k=1)[0].source == "django.md"


def test_server_lease_race_writer_whose_write_was_overwritten_backs_off(server_settings):
    """Two writers read the lease free; B's write lands during A's settle pause: A re-reads,
    sees B and refuses instead of going on with B."""
    from index.locking import WriterLease

    store = _machine(server_settings, "a").store
    a = WriterLease(store, owner="host-a:1:aaaa", settle=3.0)  # B must land inside the pause even on a loaded machine
    result: dict = {}

    def acquire() -> None:
        try:
            result["lease"] = a.acquire()
        except IndexStateError as exc:
            result["error"] = exc

    thread = threading.Thread(target=acquire, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while store.read_lease().get("owner") != a.owner:  # A's write has landed; A now pauses
        assert time.monotonic() < deadline
        time.sleep(0.01)
    b = WriterLease(store, owner="host-b:2:bbbb")
    b._write()
    thread.join(30)
    assert "host-b:2:bbbb" in str(result["error"]) and not a.held
    b.held = True
    b.release()
    assert a.acquire().held
    a.release()
