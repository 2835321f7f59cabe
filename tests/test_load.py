"""Load: the real chat window on 127.0.0.1 serves 24 concurrent conversations through
gradio_client while `assistant index --rebuild` runs in another process on the same data
folder. Every turn must get a correct, cited answer; no session may see another's turns; the
server must switch to the new index generation without a failed request. Bounded: about a
minute of load, then the p95 latency is printed and recorded as a test property."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus" / "articles"
CONVERSATIONS = 24
MAX_SECONDS = 60  # load stops by then even if the re-index is still running
TURN_TIMEOUT = 120

# (question, words one of which a correct answer contains); each conversation asks a first
# question and a follow-up that only makes sense with its own history
FIRST_TURNS = [
    ("What are Go's goroutines good for?", ("goroutine",)),
    ("Which Rust framework hits a million requests per second?", ("actix",)),
    ("What is Django's admin panel good for?", ("admin",)),
    ("What is FastAPI?", ("fastapi",)),
]
FOLLOW_UP = ("Which company runs data science backends on it?", ("netflix",))

ZIG = """---
title: "Zig on the server"
---

## Zap

Zap is a web framework written in Zig. In the author's tests a single Zap server kept three
million open websocket connections on one machine with 16 GB of memory.
"""
ZIG_Q = "Which Zig web framework kept three million websocket connections open?"



def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup)).lower()


def test_ui_under_load_during_reindex_answers_every_turn_with_citations(real_embedder, tmp_path: Path, record_property):
    from gradio_client import Client

    from assistant.core import Assistant
    from assistant.settings import Settings
    from ui.app import build_app, launch_options

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(corpus_dir=corpus, data_dir=tmp_path / "data")
    assistant = Assistant.from_settings(settings, embedder=real_embedder)
    assistant.index()
    generation_before = assistant.store.manifest()["generation"]
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    url = f"http://127.0.0.1:{port}/"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    conversations = [0]

    def conversation(worker: int) -> None:
        while not stop.is_set():
            question, expected = FIRST_TURNS[(worker + conversations[0]) % len(FIRST_TURNS)]
            turns = [(question, expected)] + ([FOLLOW_UP] if question == "What is FastAPI?" else [])
            try:
                client = Client(url, verbose=False, analytics_enabled=False, httpx_kwargs={"timeout": TURN_TIMEOUT})
                for i, (q, words) in enumerate(turns):
                    started = time.perf_counter()
                    messages, sources, box = client.submit(q, [], api_name="/chat").result(timeout=TURN_TIMEOUT)
                    with lock:
                        latencies.append(time.perf_counter() - started)
                    asked = [_plain(_text(m)).strip() for m in messages if m["role"] == "user"]
                    # this session's turns, in order, and nobody else's
                    assert asked == [t[0].lower() for t in turns[: i + 1]], asked
                    reply = _text(messages[-1])
                    assert 'class="cite"' in reply and 'class="source"' in sources, reply[:300]
                    assert any(w in _plain(reply) for w in words), reply[:300]
                with lock:
                    conversations[0] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is collected and reported
                with lock:
                    errors.append(f"worker {worker}: {exc.__class__.__name__}: {str(exc)[:300]}")
                return

    (corpus / "zap-zig.md").write_text(ZIG, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_CORPUS": str(corpus), "ASSISTANT_DATA": str(settings.data_dir)}
    indexer = subprocess.Popen([sys.executable, "-m", "assistant", "index", "--rebuild"], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(CONVERSATIONS) as pool:
            futures = [pool.submit(conversation, w) for w in range(CONVERSATIONS)]
            while time.monotonic() - started < MAX_SECONDS and not errors:
                if indexer.poll() is not None and time.monotonic() - started > 20:
                    break
                time.sleep(0.2)
            index_done_during_load = indexer.poll() is not None
            time.sleep(3 if index_done_during_load else 0)  # a few turns on the new generation
            stop.set()
            for f in futures:
                f.result(timeout=TURN_TIMEOUT * 3)
        out, err = indexer.communicate(timeout=240)
        assert indexer.returncode == 0, err[-2000:]
        after = Client(url, verbose=False, analytics_enabled=False, httpx_kwargs={"timeout": TURN_TIMEOUT}).predict(ZIG_Q, api_name="/ask")
    finally:
        if indexer.poll() is None:
            indexer.kill()
            indexer.communicate()
        app.close()
    elapsed = time.monotonic() - started
    assert not errors, errors[:5]
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    summary = (
        f"load: {CONVERSATIONS} concurrent sessions, {conversations[0]} conversations, {len(latencies)} turns in "
        f"{elapsed:.0f} s during `assistant index --rebuild` (finished during load: {index_done_during_load}); "
        f"0 errors; latency p50 {latencies[len(latencies) // 2]:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s"
    )
    print(summary)
    record_property("load_summary", summary)
    assert conversations[0] >= CONVERSATIONS
    # the server moved to the generation the other process committed, and answers from it
    assert assistant.retriever.store.generation > generation_before
    assert not after["refused"] and after["citations"][0]["source"] == "zap-zig.md"
