"""Uploads under attack (issue 16): every file of a batch gets its own verdict, duplicates are
found from stored hashes (no re-parse of the corpus) atomically with the save, so concurrent
duplicate uploads save one, also across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import assistant.uploads as uploads
from assistant.uploads import TextHashes, add_articles, save_article
from test_hardening_loaders import pdf_bomb

ROOT = Path(__file__).resolve().parent.parent
GECKO = b"# Gecko care\n\nLeopard geckos need a warm side of about 32 degrees and a cool side.\n"
GOOD = b"# Zig on the server\n\nZap is a web framework written in Zig that keeps many websocket connections.\n"


def make(tmp_path: Path) -> tuple[Path, TextHashes]:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    return corpus, TextHashes(corpus, tmp_path / "data" / "upload-hashes.json", 1_000_000)


def articles_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_three_concurrent_duplicate_uploads_save_one(tmp_path):
    corpus, hashes = make(tmp_path)
    start = threading.Barrier(3)
    outcomes = []

    def upload(name: str) -> None:
        start.wait()
        # each thread with its own TextHashes object, as separate requests would have
        outcomes.append(save_article(GECKO, name, corpus, 1_000_000, TextHashes(corpus, hashes.path, hashes.max_bytes)))

    threads = [threading.Thread(target=upload, args=(f"gecko-{i}.md",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.ok for o in outcomes) == 1
    assert len(articles_in(corpus)) == 1
    assert sum("same text as" in o.message for o in outcomes) == 2


def test_three_processes_uploading_one_text_save_one(tmp_path):
    corpus, hashes = make(tmp_path)
    code = (
        "import sys, time; from pathlib import Path; from assistant.uploads import TextHashes, save_article\n"
        "corpus, path, name, at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])\n"
        "time.sleep(max(0.0, at - time.time()))\n"
        "print(save_article(sys.stdin.buffer.read(), name, corpus, 1_000_000, TextHashes(corpus, path, 1_000_000)).ok)\n"
    )
    at = time.time() + 4.0  # all three past their imports, then at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(corpus), str(hashes.path), f"g{i}.md", str(at)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
        )
        for i in range(3)
    ]
    results = [p.communicate(GECKO, timeout=60)[0].decode().strip() for p in procs]
    assert sorted(results) == ["False", "False", "True"]
    assert len(articles_in(corpus)) == 1


def test_duplicate_of_a_file_already_in_the_corpus_is_found_and_the_corpus_parsed_once(tmp_path, monkeypatch):
    corpus, hashes = make(tmp_path)
    (corpus / "gecko.md").write_bytes(GECKO)
    (corpus / "other.md").write_bytes(b"# Other\n\nSomething else entirely about Elm compilers.\n")
    parsed: list[str] = []
    real = uploads.load_article
    monkeypatch.setattr(uploads, "load_article", lambda path, root, max_bytes: parsed.append(path.name) or real(path, root, max_bytes))
    first = save_article(GECKO, "copy.md", corpus, 1_000_000, hashes)
    assert not first.ok and "same text as gecko.md" in first.message
    assert sorted(parsed) == ["gecko.md", "other.md"]
    second = save_article(GOOD, "zig.md", corpus, 1_000_000, hashes)
    third = save_article(GOOD, "zig-again.md", corpus, 1_000_000, hashes)
    assert second.ok and not third.ok and "same text as zig.md" in third.message
    assert sorted(parsed) == ["gecko.md", "other.md"]  # stored hashes; nothing re-parsed


def test_a_deleted_or_edited_article_no_longer_counts_as_a_duplicate(tmp_path):
    corpus, hashes = make(tmp_path)
    assert save_article(GECKO, "gecko.md", corpus, 1_000_000, hashes).ok
    (corpus / "gecko.md").unlink()
    assert save_article(GECKO, "gecko-back.md", corpus, 1_000_000, hashes).saved_as == "gecko-back.md"
    (corpus / "gecko-back.md").write_bytes(GOOD)  # edited in place: now holds the other text
    assert not save_article(GOOD, "zig.md", corpus, 1_000_000, hashes).ok
    assert save_article(GECKO, "gecko.md", corpus, 1_000_000, hashes).ok


def test_a_parser_crash_on_one_file_is_that_files_verdict(tmp_path, monkeypatch):
    corpus, hashes = make(tmp_path)
    real = uploads.article_from_bytes

    def crashing(data: bytes, source: str):
        if source == "crash.md":
            raise RuntimeError("/secret/path/to/server.py exploded")
        return real(data, source)

    monkeypatch.setattr(uploads, "article_from_bytes", crashing)
    outcome = save_article(GECKO, "crash.md", corpus, 1_000_000, hashes)
    assert not outcome.ok and outcome.message == "crash.md: could not be processed; refused"
    assert save_article(GOOD, "zig.md", corpus, 1_000_000, hashes).ok


def test_batch_of_a_bomb_and_a_good_file_saves_and_indexes_the_good_one(tiny_corpus, settings_for, fake_embedder):
    from assistant.core import Assistant

    assistant = Assistant.from_settings(settings_for(tiny_corpus, min_relevance=0.0), embedder=fake_embedder)
    assistant.index()
    start = time.monotonic()
    report = add_articles(assistant, [("bomb.pdf", pdf_bomb()), ("zig.md", GOOD), ("nopath.md", object())])
    assert time.monotonic() - start < 30
    assert report.saved == ("zig.md",)
    verdicts = {o.name: o.message for o in report.refused}
    assert verdicts["bomb.pdf"].startswith("bomb.pdf: PDF") and "\n" not in verdicts["bomb.pdf"]
    assert verdicts["nopath.md"] == "nopath.md: could not be read; refused"
    assert report.index is not None and report.index.added == 1
