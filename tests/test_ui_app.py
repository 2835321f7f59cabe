"""The real chat window on 127.0.0.1 (a free port) with the real model and a temporary index,
driven through gradio_client and through headless Chromium (Playwright)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import free_port

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "articles"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GO_Q = "What are Go's goroutines good for?"
ZIG_ARTICLE = """---
title: "Zig on the server"
publisher: "Systems Weekly"
date: "2026-05"
---

## Zap

Zap is a web framework written in Zig. In the author's tests a single Zap server kept
three million open websocket connections on one machine with 16 GB of memory.
"""
ZIG_Q = "Which Zig web framework kept three million websocket connections open?"


def connect(url: str, **kwargs):
    from gradio_client import Client

    # gradio_client sends telemetry unless told not to, whatever GRADIO_ANALYTICS_ENABLED says
    return Client(url, verbose=False, analytics_enabled=False, **kwargs)



@pytest.fixture(scope="module")
def served(real_embedder, tmp_path_factory):
    from assistant.core import Assistant
    from assistant.settings import Settings
    from ui.app import build_app, launch_options

    root = tmp_path_factory.mktemp("ui")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_settings(Settings(corpus_dir=corpus, data_dir=root / "data"), embedder=real_embedder)
    assistant.index()
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", root=root, corpus=corpus, assistant=assistant)
    finally:
        app.close()


@pytest.fixture(scope="module")
def client(served):
    return connect(served.url)


def final_reply(messages: list[dict]) -> str:
    return messages[-1]["content"][0]["text"]


def test_ask_endpoint_returns_the_cli_json_with_citations(served, client):
    result = client.predict(GO_Q, api_name="/ask")
    assert list(result)[:3] == ["question", "answer", "refused"] and {"reason", "engine", "citations", "related", "shape"} <= set(result)
    assert not result["refused"] and "goroutines" in result["answer"].lower()
    assert result["citations"] and {"n", "title", "source", "text", "score"} <= set(result["citations"][0])
    assert result == served.assistant.ask(GO_Q).to_dict()


def test_chat_endpoint_streams_updates_then_cited_answer_and_sources(client):
    job = client.submit(GO_Q, [], api_name="/chat")
    job.result(timeout=120)
    updates = job.outputs()
    assert len(updates) >= 3
    assert "pending" in final_reply(updates[0][0])
    assert any("streaming" in final_reply(u[0]) for u in updates[1:-1])
    messages, sources, _ = updates[-1]
    assert [m["role"] for m in messages][-2:] == ["user", "assistant"]
    # the question box is emptied once as the answer starts, and offers Stop until it ends
    assert updates[0][2]["value"] == "" and updates[0][2]["stop_btn"] is True
    assert updates[-1][2]["stop_btn"] is False
    assert 'class="cite"' in final_reply(messages) and "goroutines" in final_reply(messages).lower()
    assert 'class="source"' in sources and "<mark>" in sources


def test_chat_endpoint_follow_up_uses_this_sessions_history(served):
    mine, other = connect(served.url), connect(served.url)
    mine.predict("What is FastAPI?", [], api_name="/chat")
    messages, sources, _ = mine.predict("Which company runs data science backends on it?", [], api_name="/chat")
    assert len(messages) == 4
    assert "Netflix" in final_reply(messages) and "Netflix" in sources
    fresh, _, _ = other.predict("What is Express.js known for?", [], api_name="/chat")
    assert len(fresh) == 2  # another session starts empty


def test_upload_new_article_then_question_only_it_answers(served, client, tmp_path):
    from gradio_client import handle_file

    before = client.predict(ZIG_Q, api_name="/ask")
    assert all(c["source"] != "zap-zig.md" for c in before["citations"])
    path = tmp_path / "zap-zig.md"
    path.write_text(ZIG_ARTICLE, encoding="utf-8")
    result, status, _choices, cleared = client.predict([handle_file(str(path))], api_name="/upload")
    assert "✓ zap-zig.md: saved as zap-zig.md" in result and "1 added" in result
    assert "6 articles" in status and not cleared
    assert (served.corpus / "zap-zig.md").read_text(encoding="utf-8") == ZIG_ARTICLE
    after = client.predict(ZIG_Q, api_name="/ask")
    assert not after["refused"] and "Zap" in after["answer"]
    assert after["citations"][0]["source"] == "zap-zig.md"


def test_upload_traversal_name_and_binary_file_are_refused_and_index_still_answers(served, client):
    import httpx

    def tree() -> set[str]:
        return {p.relative_to(served.root.parent).as_posix() for p in served.root.parent.rglob("*") if "data" not in p.parts}

    before = tree()
    content = b"---\ntitle: Escape\n---\n\nThis must not land outside the corpus.\n"
    # a raw multipart upload, and a file whose name (as sent with it) climbs out of the folder
    response = httpx.post(served.url + "gradio_api/upload", files=[("files", ("../../x.md", content, "text/markdown"))])
    response.raise_for_status()
    [uploaded] = response.json()
    binary = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    [binary_uploaded] = httpx.post(served.url + "gradio_api/upload", files=[("files", ("photo.md", binary))]).json()
    # the REST API directly: gradio_client would rewrite the name to its base name
    files = [
        {"path": uploaded, "orig_name": "../../x.md", "meta": {"_type": "gradio.FileData"}},
        {"path": binary_uploaded, "orig_name": "photo.md", "meta": {"_type": "gradio.FileData"}},
    ]
    event = httpx.post(served.url + "gradio_api/call/upload", json={"data": [files]}).json()["event_id"]
    stream = httpx.get(served.url + f"gradio_api/call/upload/{event}", timeout=60).text
    assert "event: complete" in stream, stream
    result = json.loads(stream.split("event: complete\ndata:", 1)[1].strip().splitlines()[0])[0]
    assert "✗ ../../x.md: a file name must not contain a folder path; refused" in result
    assert "✗ photo.md: binary file, not text; refused" in result and "Nothing new to index" in result
    assert tree() == before  # nothing written, inside the corpus or out
    answer = client.predict(GO_Q, api_name="/ask")
    assert not answer["refused"] and answer["citations"]


def test_launch_with_auth_settings_refuses_clients_without_credentials(served):
    import httpx

    from assistant.settings import Settings
    from ui.app import build_app, launch_options

    settings = Settings(host="127.0.0.1", port=free_port(), auth=("alice", "pw"))
    app = build_app(served.assistant)
    app.launch(prevent_thread_lock=True, quiet=True, **launch_options(settings))
    url = f"http://127.0.0.1:{settings.port}/"
    try:
        assert httpx.get(url + "gradio_api/info").status_code == 401
        assert httpx.post(url + "gradio_api/upload", files=[("files", ("a.md", b"x"))]).status_code == 401
        answer = connect(url, auth=("alice", "pw")).predict(GO_Q, api_name="/ask")
        assert answer["citations"]
    finally:
        app.close()


@pytest.mark.browser
def test_page_in_headless_chromium_streams_answer_and_shows_sources(served, tmp_path_factory):
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian packages chromium and chromium-driver: `make browser`)"
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    expected = served.assistant.ask(GO_Q)
    assert expected.citations
    shot = tmp_path_factory.mktemp("browser") / "ui.png"
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.on("request", lambda r: outside.append(r.url) if r.url.startswith("http") and not r.url.startswith(served.url) else None)
            page.goto(served.url)
            box = page.locator("#question textarea")
            box.wait_for(timeout=30_000)
            assert "articles" in page.inner_text("#status")
            # record every state the answer bubble passes through
            page.evaluate(
                """() => { window.seen = new Set();
                new MutationObserver(() => document.querySelectorAll('#chat .reply')
                    .forEach(e => e.classList.forEach(c => window.seen.add(c))))
                .observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
            )
            box.fill(GO_Q)
            box.press("Enter")
            page.wait_for_selector("#chat .reply.answer:not(.streaming)", timeout=60_000)
            page.wait_for_selector("#sources .source mark", timeout=10_000)
            seen = set(page.evaluate("() => [...window.seen]"))
            assert "pending" in seen and "answer" in seen
            assert "goroutines" in page.inner_text("#chat .reply.answer").lower()
            assert page.locator("#sources .source").count() == len(expected.citations)
            assert expected.citations[0].title in page.inner_text("#source-1")
            page.locator("#chat a.cite").first.click()
            assert page.url.endswith("#source-1")
            # a second question; then a click on the first answer's [1] brings its sources back
            box.fill("What is polyglot persistence?")
            box.press("Enter")
            page.wait_for_function("document.querySelectorAll('#chat .reply.answer:not(.streaming)').length >= 2", timeout=60_000)
            page.wait_for_function("document.querySelector('#sources .sources-for').textContent.includes('polyglot')")
            page.locator("#chat .reply.answer").first.locator("a.cite").first.click()
            page.wait_for_function("document.querySelector('#sources .sources-for').textContent.includes('goroutines')")
            time.sleep(0.3)  # let the highlight settle
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    print(f"screenshot: {shot}", file=sys.stderr)
    assert shot.stat().st_size > 20_000
    assert outside == []  # the page reaches nothing but the app itself
