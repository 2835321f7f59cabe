"""``assistant index --watch``: files written, edited and deleted while the watcher runs are
indexed in one run per burst, each article embedded once per change, and the index ends equal
to a clean build; a file still being written is read only once complete; a watcher killed in
the middle of a run leaves a consistent index; Ctrl-C stops the command cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.watch import WatchEvent, WatchOptions, is_watched, watch_corpus
from corpus.chunking import chunk_article
from corpus.loaders import load_corpus

from conftest import FakeEmbedder, write_article

pytestmark = pytest.mark.slow
TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FAST = WatchOptions(quiet_ms=300, max_wait_ms=3000, settle_s=0.3, settle_timeout_s=10, lock_timeout_s=30)


class CountingEmbedder:
    """The real model, with every text it embeds for documents recorded."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


class Watcher:
    """``watch_corpus`` in a thread; ``next_run()`` waits for its next indexing event."""

    def __init__(self, assistant: Assistant, options: WatchOptions = FAST) -> None:
        self.events: queue.Queue[WatchEvent] = queue.Queue()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(assistant, options), daemon=True)
        self.thread.start()

    def _run(self, assistant: Assistant, options: WatchOptions) -> None:
        try:
            watch_corpus(assistant, options, self.stop, self.events.put)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.errors.append(exc)

    def next_run(self, timeout: float = 60) -> WatchEvent:
        event = self.events.get(timeout=timeout)
        assert event.kind == "indexed", event
        return event

    def quiet_for(self, seconds: float) -> bool:
        try:
            event = self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"an extra run: {event}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive() and not self.errors, self.errors


def _chunk_texts(corpus: Path, settings) -> dict[str, str]:
    """Embedding text of every chunk of the corpus now -> its article."""
    return {
        c.embedding_text(): a.source
        for a in load_corpus(corpus).articles
        for c in chunk_article(a, settings.chunk_max_chars, settings.chunk_overlap_chars)
    }


def _ids(assistant: Assistant) -> set[str]:
    ids = [i for a in assistant.store.articles().values() for i in a.chunk_ids]
    assert len(ids) == len(set(ids))
    return set(ids)


def test_watch_indexes_added_edited_and_deleted_files_once_per_change_and_ends_like_a_clean_build(tiny_corpus: Path, settings_for, real_embedder, tmp_path: Path):
    embedder = CountingEmbedder(real_embedder)
    assistant = Assistant.from_settings(settings_for(tiny_corpus), embedder=embedder)
    assistant.index()
    settings = assistant.settings
    watcher = Watcher(assistant)
    try:
        assert watcher.next_run().report.embedded == 0  # the catch-up run: nothing changed
        embedder.texts.clear()

        # three files in one burst: one run, each article embedded once
        write_article(tiny_corpus, "zig.md", "Zig in 2026", "## Comptime\n\nZig's comptime generates code at compile time. Bun is written in Zig.")
        write_article(tiny_corpus, "elixir.md", "Elixir in 2026", "## Phoenix\n\nPhoenix LiveView pushes updates over websockets. The BEAM runs millions of processes.")
        write_article(tiny_corpus, "gleam.md", "Gleam in 2026", "## Types\n\nGleam brings static types to the BEAM and compiles to JavaScript too.")
        run = watcher.next_run()
        assert (run.report.added, run.report.updated, run.report.removed) == (3, 0, 0)
        chunks = _chunk_texts(tiny_corpus, settings)
        embedded = Counter(chunks[t] for t in embedder.texts if t in chunks)
        assert embedded == Counter({"zig.md": 1, "elixir.md": 1, "gleam.md": 1})
        assert watcher.quiet_for(1.0)
        embedder.texts.clear()

        # one edit: that article alone, once
        write_article(tiny_corpus, "zig.md", "Zig in 2026", "## Comptime\n\nZig's comptime generates code at compile time. TigerBeetle allocates statically.")
        run = watcher.next_run()
        assert (run.report.added, run.report.updated, run.report.removed) == (0, 1, 0)
        chunks = _chunk_texts(tiny_corpus, settings)
        assert Counter(chunks[t] for t in embedder.texts if t in chunks) == Counter({"zig.md": 1})
        embedder.texts.clear()

        # one deletion: nothing embedded
        (tiny_corpus / "elixir.md").unlink()
        run = watcher.next_run()
        assert (run.report.added, run.report.updated, run.report.removed, run.report.embedded) == (0, 0, 1, 0)
        assert not [t for t in embedder.texts if t in _chunk_texts(tiny_corpus, settings)]

        # a file written slowly (pauses shorter than the settle time) is read once, whole
        with open(tiny_corpus / "odin.md", "w", encoding="utf-8") as fh:
            fh.write('---\ntitle: "Odin in 2026"\n---\n\n## Data\n\nOdin is data-oriented.')
            for i in range(6):
                fh.flush()
                time.sleep(0.15)
                fh.write(f" Part {i} of the article arrives.")
            fh.write(" EmberGen is built with Odin.\n")
        run = watcher.next_run()
        assert run.report.added == 1
        assert watcher.quiet_for(1.0)
        answer = assistant.ask("Which tool is built with Odin?")
        assert answer.citations and answer.citations[0].source == "odin.md" and "EmberGen" in answer.citations[0].text
    finally:
        watcher.close()

    assert assistant.check_index().ok
    clean = Assistant.from_settings(settings.with_(data_dir=tmp_path / "clean"), embedder=real_embedder)
    clean.index()
    assert _ids(assistant) == _ids(clean)
    assert {s: a.article_hash for s, a in assistant.store.articles().items()} == {s: a.article_hash for s, a in clean.store.articles().items()}


def test_watch_filter_takes_article_files_and_folders_not_hidden_or_temporary_files(tmp_path: Path):
    root = tmp_path
    (root / "sub").mkdir()
    assert is_watched(root, str(root / "a.md")) and is_watched(root, str(root / "sub" / "b.PDF"))
    assert is_watched(root, str(root / "sub"))  # a folder moved in or out
    for name in (".a.md.swp", ".upload-1234.part", "a.md~", "notes.docx", ".hidden/a.md", "_drafts/a.md"):
        assert not is_watched(root, str(root / name)), name
    assert not is_watched(root, str(root / "data" / "x.md"), ignore=[root / "data"])
    assert not is_watched(root, str(tmp_path.parent / "elsewhere.md"))


# the watcher in a process of its own, with the deterministic embedder: stops in its second
# run once some chunks are embedded (writes ``marker``) until it is killed
_WATCHER = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    sys.path[:0] = [{tests!r}, {repo!r}]
    from conftest import FakeEmbedder
    from assistant.core import Assistant
    from assistant.settings import Settings
    from assistant.watch import WatchOptions, watch_corpus

    corpus, data, marker = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    assistant = Assistant.from_settings(Settings(corpus_dir=corpus, data_dir=data), embedder=FakeEmbedder())
    assistant.indexer.batch_size = 1
    runs = {{"start": 0}}

    def checkpoint(name):
        if name == "start":
            runs["start"] += 1
            print("run", runs["start"], flush=True)
        if name == "embedded" and runs["start"] == 2:
            marker.write_text("embedding")
            time.sleep(120)

    assistant.indexer.checkpoint = checkpoint
    watch_corpus(assistant, WatchOptions(quiet_ms=200, settle_s=0.2), threading.Event(), lambda e: print(e.kind, e.message, flush=True))
    """
).format(tests=str(TESTS), repo=str(REPO))


def test_watcher_killed_in_the_middle_of_a_run_leaves_a_consistent_index(tiny_corpus: Path, tmp_path: Path):
    from assistant.settings import Settings

    settings = Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / "data")
    Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    old = _ids(Assistant.from_settings(settings, embedder=FakeEmbedder()))
    marker = tmp_path / "marker"
    log = tmp_path / "watcher.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", _WATCHER, str(tiny_corpus), settings.data_dir, str(marker)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "indexed" not in log.read_text():  # the catch-up run is done: the watcher is up
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        write_article(tiny_corpus, "zig.md", "Zig in 2026", "## Comptime\n\nZig's comptime generates code at compile time.\n\n## Bun\n\nBun is written in Zig.")
        write_article(tiny_corpus, "go.md", "Go in 2026", "## Concurrency\n\nGoroutines now schedule across cores with almost no overhead.")
        (tiny_corpus / "rust.md").unlink()
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    reader = Assistant.from_settings(settings, embedder=FakeEmbedder())
    assert _ids(reader) == old  # the last committed index, whole: no chunk of the killed run
    check = reader.check_index()
    assert set(check.plan.added) == {"zig.md"} and set(check.plan.updated) == {"go.md"} and set(check.plan.removed) == {"rust.md"}
    assert not check.mismatched and not check.duplicates
    reader.index()
    assert reader.check_index().ok


def test_index_watch_command_indexes_a_new_file_and_stops_cleanly_on_ctrl_c(tiny_corpus: Path, tmp_path: Path):
    env = {**os.environ, "ASSISTANT_CORPUS": str(tiny_corpus), "ASSISTANT_DATA": str(tmp_path / "data")}
    log = tmp_path / "watch.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "index", "--watch", "--quiet", "0.3"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "3 added" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        write_article(tiny_corpus, "zig.md", "Zig in 2026", "## Comptime\n\nZig's comptime generates code at compile time.")
        while "1 added" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "stopped watching" in text and "Traceback" not in text, text


def test_watch_loop_syncs_feeds_on_schedule_and_a_failing_sync_does_not_end_it(tiny_corpus: Path, settings_for, tmp_path: Path):
    from assistant.feeds import Feed, FeedStore

    assistant = Assistant.from_settings(settings_for(tiny_corpus), embedder=FakeEmbedder())
    assistant.index()
    with FeedStore.of(assistant.settings.data_dir).locked() as state:  # the loop never fetches private addresses
        state.feeds.append(Feed("http://127.0.0.1:9/feed.xml", "Local"))
    watcher = Watcher(assistant, WatchOptions(quiet_ms=200, settle_s=0.1, feeds_every_s=0.5))
    try:
        kinds = []
        deadline = time.monotonic() + 30
        while kinds.count("feeds") < 2 and time.monotonic() < deadline:
            event = watcher.events.get(timeout=30)
            kinds.append(event.kind)
            if event.kind == "feeds":
                assert "Local: failed:" in event.message and "private, loopback or link-local" in event.message
        assert kinds[0] == "indexed" and kinds.count("feeds") == 2
        write_article(tiny_corpus, "zig.md", "Zig in 2026", "## Comptime\n\nZig's comptime generates code at compile time.")
        while (event := watcher.events.get(timeout=30)).kind != "indexed":
            pass
        assert event.report.added == 1
    finally:
        watcher.close()
