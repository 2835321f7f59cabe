"""Index integrity: crash-safe re-indexing, one writer at a time, damaged data folders.

Crash tests run a real indexing subprocess (``Assistant.index`` on a real Chroma folder) that
stops at a named step of ``Indexer.sync`` (``Indexer.checkpoint``), check what a reader sees
while it is stopped, SIGKILL it, and check that the next run leaves exactly the right chunks.
The subprocess uses the deterministic fake embedder so that each kill costs seconds, not a
model load; the store, the lock and the files are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.core import Assistant
from assistant.settings import Settings
from corpus.chunking import chunk_article
from corpus.errors import IndexStateError
from corpus.loaders import load_corpus

from conftest import FakeEmbedder, write_article

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

# The writer: index ``corpus`` into ``data`` with small batches; at checkpoint ``stop`` (its
# ``nth`` occurrence) write ``marker`` and sleep until killed.
_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path[:0] = [{tests!r}, {repo!r}]
    from conftest import FakeEmbedder
    from assistant.core import Assistant
    from assistant.settings import Settings

    corpus, data, stop, nth, marker = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
    assistant = Assistant.from_settings(Settings(corpus_dir=Path(corpus), data_dir=Path(data)), embedder=FakeEmbedder())
    assistant.indexer.batch_size = 2
    seen = {{}}

    def checkpoint(name):
        seen[name] = seen.get(name, 0) + 1
        if name == stop and seen[name] == nth:
            marker.write_text(name)
            time.sleep(120)

    assistant.indexer.checkpoint = checkpoint
    print(assistant.index().summary())
    """
).format(tests=str(TESTS), repo=str(REPO))


def _forget_clients() -> None:
    """Chroma caches one system per folder and process; drop it after files change under it."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def _corpus_v1(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_article(folder, "go.md", "Go in 2026", "## Concurrency\n\nGoroutines and channels make concurrent programs simple.\n\n## Deployment\n\nGo apps compile to a single binary, which keeps Docker images small.")
    write_article(folder, "rust.md", "Rust in 2026", "## Speed\n\nActix Web tops benchmarks with a million requests per second.\n\n## Safety\n\nMemory safety means no crashes from leaks.")
    write_article(folder, "python.md", "Python in 2026", "## FastAPI\n\nFastAPI runs async out of the box.\n\n## Django\n\nDjango's admin panel lets you manage data without front-end work.")
    write_article(folder, "java.md", "Java in 2026", "## Spring\n\nSpring Boot dominates enterprise backends.\n\n## Virtual threads\n\nVirtual threads make blocking code scale.")


def _corpus_v2(folder: Path) -> None:
    """Go changed, Rust deleted, Elixir added, Python and Java unchanged."""
    write_article(folder, "go.md", "Go in 2026", "## Concurrency\n\nGoroutines now schedule across cores with almost no overhead.\n\n## Tooling\n\nThe go command vendors modules reproducibly.\n\n## Deployment\n\nGo apps compile to a single binary.")
    (folder / "rust.md").unlink()
    write_article(folder, "elixir.md", "Elixir in 2026", "## Phoenix\n\nPhoenix LiveView pushes server-rendered updates over websockets.\n\n## BEAM\n\nThe BEAM keeps millions of lightweight processes alive.")


def _expected_ids(corpus: Path, settings: Settings) -> set[str]:
    articles = load_corpus(corpus).articles
    return {c.id for a in articles for c in chunk_article(a, settings.chunk_max_chars, settings.chunk_overlap_chars)}


def _committed_ids(settings: Settings, embedder=None) -> set[str]:
    _forget_clients()
    assistant = Assistant.from_settings(settings, embedder=embedder or FakeEmbedder())
    store = assistant.store
    ids = [i for a in store.articles().values() for i in a.chunk_ids]
    assert len(ids) == len(set(ids)), "duplicate chunks in the committed generation"
    return set(ids)


def _retrieved_ids(settings: Settings) -> set[str]:
    """Every chunk a fresh reader can retrieve (k large enough for the whole tiny corpus)."""
    _forget_clients()
    assistant = Assistant.from_settings(settings, embedder=FakeEmbedder())
    out: set[str] = set()
    for q in ("goroutines binary", "actix benchmarks", "phoenix beam", "spring threads", "fastapi django"):
        out |= {p.chunk_id for p in assistant.retrieve(q, k=50)}
    return out


def _start_writer(corpus: Path, data: Path, stop: str, nth: int, marker: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(corpus), str(data), stop, str(nth), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"writer ended before {stop}: {proc.stderr.read()[-2000:]}")
        assert time.monotonic() < deadline, f"writer never reached {stop}"
        time.sleep(0.05)
    return proc


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()


@pytest.fixture
def indexed_v1(tmp_path: Path):
    corpus = tmp_path / "corpus"
    _corpus_v1(corpus)
    settings = Settings(corpus_dir=corpus, data_dir=tmp_path / "data")
    Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    old = _expected_ids(corpus, settings)
    assert _committed_ids(settings) == old
    _corpus_v2(corpus)
    return corpus, settings, old, _expected_ids(corpus, settings)


# (checkpoint, occurrence, state a reader must see after the kill)
CRASH_POINTS = [
    ("start", 1, "old"),
    ("begun", 1, "old"),
    ("copied", 1, "old"),
    ("embedded", 1, "old"),
    ("embedded", 3, "old"),
    ("written", 1, "old"),
    ("committed", 1, "new"),
    ("cleaned", 1, "new"),
]


@pytest.mark.parametrize(("stop", "nth", "after"), CRASH_POINTS, ids=[f"{s}{n}" for s, n, _ in CRASH_POINTS])
def test_index_killed_at_checkpoint_leaves_consistent_state_and_recovers(indexed_v1, tmp_path: Path, stop: str, nth: int, after: str):
    corpus, settings, old, new = indexed_v1
    proc = _start_writer(corpus, settings.data_dir, stop, nth, tmp_path / "marker")
    try:
        # while the writer is stopped mid-run, a reader answers from one whole state
        during = _retrieved_ids(settings)
        assert during == (old if after == "old" else new)
    finally:
        _kill(proc)
    assert _committed_ids(settings) == (old if after == "old" else new)
    assert _retrieved_ids(settings) == (old if after == "old" else new)
    # the next run: exactly the new chunks, no duplicates, nothing of rust.md, no leftovers
    _forget_clients()
    assistant = Assistant.from_settings(settings, embedder=FakeEmbedder())
    assistant.index()
    assert _committed_ids(settings) == new
    assert _retrieved_ids(settings) == new
    assert not any("rust" in s for s, _ in Assistant.from_settings(settings, embedder=FakeEmbedder()).articles())
    check = Assistant.from_settings(settings, embedder=FakeEmbedder()).check_index()
    assert check.ok, check.summary()
    names = {c.name for c in assistant.store.client.list_collections()}
    assert len([n for n in names if n.startswith("articles.g")]) <= 2


def test_index_killed_during_rebuild_keeps_old_index(indexed_v1, tmp_path: Path):
    corpus, settings, old, new = indexed_v1
    script = _WRITER.replace("assistant.index()", "assistant.index(rebuild=True)")
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", script, str(corpus), str(settings.data_dir), "embedded", "1", str(marker)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _kill(proc)
    assert _committed_ids(settings) == old


def test_index_second_writer_refused_while_first_runs_and_readers_keep_working(indexed_v1, tmp_path: Path, capsys):
    corpus, settings, old, new = indexed_v1
    proc = _start_writer(corpus, settings.data_dir, "embedded", 1, tmp_path / "marker")
    try:
        _forget_clients()
        second = Assistant.from_settings(settings, embedder=FakeEmbedder())
        with pytest.raises(IndexStateError, match="another indexing run holds"):
            second.index()
        passages = second.retrieve("How do goroutines and channels help?")
        assert passages[0].source == "go.md" and {p.chunk_id for p in passages} <= old
    finally:
        _kill(proc)
    # the lock dies with its holder: the next writer proceeds
    _forget_clients()
    Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    assert _committed_ids(settings) == new


def test_index_lock_held_cli_prints_one_line_and_exits_1(tmp_path: Path, capsys):
    from filelock import FileLock

    corpus = tmp_path / "corpus"
    _corpus_v1(corpus)
    data = tmp_path / "data"
    data.mkdir()
    with FileLock(str(data / "index.lock")):
        with pytest.raises(SystemExit) as exc:
            main(["index", "--corpus", str(corpus), "--data", str(data)])
    err = capsys.readouterr().err
    assert exc.value.code == 1
    assert "another indexing run holds" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_reader_switches_to_new_generation_after_reindex_in_another_process(indexed_v1):
    corpus, settings, old, new = indexed_v1
    _forget_clients()
    reader = Assistant.from_settings(settings, embedder=FakeEmbedder())
    before = {p.chunk_id for p in reader.retrieve("goroutines binary", k=50)}
    assert before <= old
    proc = subprocess.run([sys.executable, "-c", _WRITER, str(corpus), str(settings.data_dir), "never", "1", "/dev/null"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = {p.chunk_id for p in reader.retrieve("phoenix liveview beam goroutines", k=50)}
    assert after <= new and any(c for c in after if c not in old)


# -- damaged or mismatched data folders -------------------------------------------------------------


def _damage_garbage_sqlite(settings: Settings) -> None:
    (settings.chroma_path / "chroma.sqlite3").write_bytes(os.urandom(8192))


def _damage_truncated_sqlite(settings: Settings) -> None:
    path = settings.chroma_path / "chroma.sqlite3"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _damage_sqlite_deleted(settings: Settings) -> None:
    (settings.chroma_path / "chroma.sqlite3").unlink()


def _damage_chroma_folder_deleted(settings: Settings) -> None:
    import shutil

    shutil.rmtree(settings.chroma_path)


def _manifest_client(settings: Settings):
    from index.client import make_client

    return make_client(path=str(settings.chroma_path))


def _damage_manifest_count(settings: Settings) -> None:
    manifest = _manifest_client(settings).get_collection("articles.manifest")
    meta = dict(manifest.metadata)
    meta["chunks"] = int(meta["chunks"]) + 5
    manifest.modify(metadata=meta)


def _damage_manifest_collection_missing(settings: Settings) -> None:
    client = _manifest_client(settings)
    client.delete_collection(client.get_collection("articles.manifest").metadata["collection"])


DAMAGE = {
    "garbage_sqlite": (_damage_garbage_sqlite, "cannot be opened"),
    "truncated_sqlite": (_damage_truncated_sqlite, "cannot be opened"),
    "sqlite_deleted": (_damage_sqlite_deleted, "vector store is gone"),
    "chroma_folder_deleted": (_damage_chroma_folder_deleted, "vector store is gone"),
    "manifest_count_disagrees": (_damage_manifest_count, "manifest lists"),
    "manifest_names_missing_collection": (_damage_manifest_collection_missing, "which is missing"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_index_detected_at_start_with_rebuild_hint(tiny_corpus: Path, tmp_path: Path, kind: str):
    settings = Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / "data")
    Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    _forget_clients()
    damage, message = DAMAGE[kind]
    damage(settings)
    _forget_clients()
    with pytest.raises(IndexStateError) as exc:
        Assistant.from_settings(settings, embedder=FakeEmbedder()).ask("What makes Go deployment simple?")
    text = str(exc.value)
    assert message in text and "assistant index --rebuild" in text and "\n" not in text
    _forget_clients()


def test_damaged_index_cli_one_line_then_rebuild_repairs(tiny_corpus: Path, tmp_path: Path, capsys):
    args = ["--corpus", str(tiny_corpus), "--data", str(tmp_path / "data")]
    main(["index", *args])
    _forget_clients()
    _damage_garbage_sqlite(Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / "data"))
    _forget_clients()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["ask", *args, "What makes Go deployment simple?"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "Traceback" not in err
    assert err.startswith("error: ") and "--rebuild" in err and len(err.strip().splitlines()) == 1
    main(["index", "--rebuild", *args])
    assert "3 added" in capsys.readouterr().out
    main(["ask", *args, "What makes Go deployment simple?"])
    assert "go.md" in capsys.readouterr().out


class _OtherModel(FakeEmbedder):
    model_id = "another-model"


class _Smaller(FakeEmbedder):
    dimension = 32


@pytest.mark.parametrize(("embedder", "message"), [(_OtherModel, "built with the embedding model"), (_Smaller, "64-dimensional vectors but the model makes 32")])
def test_model_or_dimension_change_detected_and_rebuild_accepts_it(tiny_corpus: Path, tmp_path: Path, embedder, message: str):
    settings = Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / "data")
    Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    changed = Assistant.from_settings(settings, embedder=embedder())
    with pytest.raises(IndexStateError, match=message) as exc:
        changed.ask("What makes Go deployment simple?")
    assert "assistant index --rebuild" in str(exc.value)
    with pytest.raises(IndexStateError, match=message):
        changed.index()
    changed.index(rebuild=True)
    passages = Assistant.from_settings(settings, embedder=embedder()).retrieve("What makes Go deployment simple?")
    assert passages and passages[0].source == "go.md"


def test_index_check_reports_mismatch_and_exits_nonzero(tiny_corpus: Path, tmp_path: Path, capsys):
    args = ["--corpus", str(tiny_corpus), "--data", str(tmp_path / "data")]
    main(["index", *args])
    capsys.readouterr()
    main(["index", "--check", *args])
    assert capsys.readouterr().out.startswith("Index matches the corpus: 3 articles")
    write_article(tiny_corpus, "go.md", "Go in 2026", "## Concurrency\n\nGoroutines changed completely this year.")
    (tiny_corpus / "rust.md").unlink()
    write_article(tiny_corpus, "zig.md", "Zig in 2026", "## Speed\n\nZig compiles C code too.")
    with pytest.raises(SystemExit) as exc:
        main(["index", "--check", *args])
    out = capsys.readouterr().out
    assert exc.value.code == 1
    assert "1 not indexed (zig.md)" in out and "1 changed since indexing (go.md)" in out
    assert "1 deleted but still indexed (rust.md)" in out
    main(["index", *args])
    capsys.readouterr()
    main(["index", "--check", *args])
    assert "matches" in capsys.readouterr().out


def test_index_check_detects_chunks_missing_from_collection(tiny_corpus: Path, tmp_path: Path):
    settings = Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / "data")
    assistant = Assistant.from_settings(settings, embedder=FakeEmbedder())
    assistant.index()
    store = assistant.store
    victim = store.articles()["go.md"].chunk_ids[0]
    store.collection.delete(ids=[victim])  # a chunk lost behind the indexer's back
    result = assistant.check_index()
    assert not result.ok and "1 with wrong chunks (go.md)" in result.summary()
    report = assistant.index()  # the next run repairs it: go.md is chunked and embedded again
    assert report.updated == 1 and report.unchanged == 2
    assert assistant.check_index().ok


def test_index_after_chunk_size_change_rechunks_every_article(tiny_corpus: Path, tmp_path: Path):
    settings = Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / "data")
    Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    smaller = Assistant.from_settings(settings.with_(chunk_max_chars=60, chunk_overlap_chars=0), embedder=FakeEmbedder())
    assert not smaller.check_index().ok
    report = smaller.index()
    assert report.updated == 3 and smaller.check_index().ok
    assert _committed_ids(smaller.settings) == _expected_ids(tiny_corpus, smaller.settings)


def test_status_file_written_atomically(tiny_corpus: Path, tmp_path: Path):
    settings = Settings(corpus_dir=tiny_corpus, data_dir=tmp_path / "data")
    Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    assert json.loads((settings.data_dir / "last_index.json").read_text())["chunks"] > 0


def test_index_cli_killed_mid_embedding_with_real_model_keeps_old_index(tmp_path: Path, real_embedder, capsys):
    """`assistant index --rebuild` (real model, real CLI) is SIGKILLed once its new generation
    holds some but not all chunks; the committed index stays whole and the next run cleans up."""
    import shutil

    from index.client import make_client

    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus" / "articles", corpus)
    for path in sorted(corpus.glob("*.md")):  # a second edition of each: more batches to land in
        text = path.read_text(encoding="utf-8").replace('title: "', 'title: "Second edition: ', 1)
        (corpus / f"second-{path.name}").write_text(text + "\nThis edition adds a closing note.\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, data_dir=tmp_path / "data")
    Assistant.from_settings(settings, embedder=real_embedder).index()
    old = _committed_ids(settings, real_embedder)
    client = make_client(path=str(settings.chroma_path))
    env = {**os.environ, "ASSISTANT_CORPUS": str(corpus), "ASSISTANT_DATA": str(settings.data_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "index", "--rebuild"], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    caught = 0
    deadline = time.monotonic() + 240
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if any(c.name == "articles.g2" for c in client.list_collections()):
                caught = client.get_collection("articles.g2").count()
                if 0 < caught < len(old):
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
    assert 0 < caught < len(old), f"the run was not caught mid-embedding ({caught} of {len(old)} chunks)"
    assert proc.returncode == -signal.SIGKILL
    assert _committed_ids(settings, real_embedder) == old
    _forget_clients()
    main(["index", "--check", "--corpus", str(corpus), "--data", str(settings.data_dir)])
    assert "Index matches the corpus: 10 articles" in capsys.readouterr().out
    report = Assistant.from_settings(settings, embedder=real_embedder).index()
    assert report.embedded == 0 and _committed_ids(settings, real_embedder) == old
    assert {c.name for c in make_client(path=str(settings.chroma_path)).list_collections()} == {"articles.g1", "articles.k1", "articles.manifest"}


def test_questions_in_threads_while_same_process_reindexes_see_old_or_new_never_a_mix(indexed_v1):
    """The UI's case: an upload re-indexes in one thread while other sessions ask."""
    import threading

    corpus, settings, old, new = indexed_v1
    _forget_clients()
    assistant = Assistant.from_settings(settings, embedder=FakeEmbedder())
    assistant.retrieve("warm up")
    assistant.indexer.batch_size = 1
    assistant.indexer.checkpoint = lambda name: time.sleep(0.05)  # every step overlaps questions
    seen: list[frozenset[str]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                seen.append(frozenset(p.chunk_id for p in assistant.retrieve("goroutines binary phoenix spring", k=50)))
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        assistant.index()
        time.sleep(0.3)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[:3]
    assert seen and all(ids in (frozenset(old), frozenset(new)) for ids in seen)
    assert frozenset(old) in seen and seen[-1] == frozenset(new)
