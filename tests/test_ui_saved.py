"""Saved conversations, feedback and export in the real window (127.0.0.1, a free port, the real
model): 20 clients giving feedback at once through the served like event, and one headless
Chromium run through the whole everyday flow."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import free_port, write_article

from ui import conversations

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "articles"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STORE_CHANGED = """before => { const k = Object.keys(localStorage).find(k => k.startsWith('article-assistant-'));
    const now = k && localStorage.getItem(k); return now && now !== before ? now : false; }"""
ZIG = "---\ntitle: \"Zig on the server\"\n---\n\n## Allocators\n\nZig passes allocators explicitly to every function that allocates.\n"
QUESTIONS = ["What are Go's goroutines good for?", "What is polyglot persistence?", "What is FastAPI?",
             "What is Express.js known for?", "Which Rust framework hits a million requests per second?"]


def serve(assistant):
    from ui.app import build_app, launch_options

    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def served(real_embedder, tmp_path_factory):
    from assistant.core import Assistant
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("saved")
    shutil.copytree(CORPUS, root / "corpus")
    assistant = Assistant.from_settings(Settings(corpus_dir=root / "corpus", data_dir=root / "data"), embedder=real_embedder)
    assistant.index()
    app, url = serve(assistant)
    try:
        yield SimpleNamespace(url=url, assistant=assistant, feedback=root / "data" / "feedback.jsonl")
    finally:
        app.close()


def like_event(url: str, session_hash: str, fn_index: int, message: int, liked: bool) -> str:
    """Click the like/dislike button of chat message ``message`` the way the page does: the
    ``like`` event with its event data, in the session that asked the question."""
    import httpx

    with httpx.Client(base_url=url, timeout=120) as http:
        joined = http.post("gradio_api/queue/join", json={"data": [None], "event_data": {"index": message, "value": "", "liked": liked},
                                                          "fn_index": fn_index, "session_hash": session_hash})
        joined.raise_for_status()
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and '"process_completed"' in line:
                    return line
    return ""


def test_twenty_clients_giving_feedback_at_once_each_get_one_whole_line(served):
    from gradio_client import Client

    served.feedback.unlink(missing_ok=True)
    clients = [Client(served.url, verbose=False, analytics_enabled=False) for _ in range(20)]
    fn_index = next(int(i) for i, d in enumerate(clients[0].config["dependencies"]) if d.get("api_name") == "feedback")
    start = threading.Barrier(20)
    done: list[str] = [""] * 20
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            clients[i].predict(QUESTIONS[i % len(QUESTIONS)], [], api_name="/chat")
            start.wait(timeout=120)
            done[i] = like_event(served.url, clients[i].session_hash, fn_index, 1, i % 2 == 0)
        except BaseException as exc:  # reported below, with the others' results
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    print(f"20 clients asked and gave feedback in {time.monotonic() - began:.1f} s", file=sys.stderr)
    assert not errors, errors
    assert all('"success":true' in d.replace(" ", "") for d in done), done
    lines = served.feedback.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line whole JSON: none interleaved
    assert len(records) == 20 and len({r["id"] for r in records}) == 20
    assert sorted(r["question"] for r in records) == sorted(QUESTIONS[i % len(QUESTIONS)] for i in range(20))
    assert sorted(r["verdict"] for r in records) == ["down"] * 10 + ["up"] * 10
    assert all(r["citations"] and r["engine"] == "extractive" for r in records)


@pytest.mark.browser
def test_page_keeps_conversations_takes_feedback_exports_and_shows_the_collections_examples(served, real_embedder, tmp_path_factory):
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian packages chromium and chromium-driver: `make browser`)"
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    from assistant.core import Assistant
    from assistant.settings import Settings

    # a second window on another collection, for its example questions
    other_root = tmp_path_factory.mktemp("other")
    (other_root / "corpus").mkdir()
    write_article(other_root / "corpus", "zig.md", "Zig on the server", "## Allocators\n\nZig passes allocators explicitly.\n\n## Zap\n\nZap is a web framework written in Zig.")
    write_article(other_root / "corpus", "elixir.md", "Elixir at scale", "## Supervisors\n\nSupervisors restart crashed processes.")
    other = Assistant.from_settings(Settings(corpus_dir=other_root / "corpus", data_dir=other_root / "data"), embedder=real_embedder)
    other.index()
    other_app, other_url = serve(other)
    served.feedback.unlink(missing_ok=True)
    shots = tmp_path_factory.mktemp("shots")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True).new_page()

                def examples(url: str) -> list[str]:
                    page.goto(url)
                    page.locator("#question textarea").wait_for(timeout=30_000)
                    page.wait_for_function("document.querySelectorAll('#chat .example, #chat button.example').length > 0", timeout=15_000)
                    return [t.strip() for t in page.locator("#chat .example, #chat button.example").all_inner_texts()]

                theirs = examples(other_url)
                mine = examples(served.url)
                assert any("Zig" in e or "Elixir" in e or "Allocators" in e for e in theirs), theirs
                assert mine and not set(mine) & set(theirs) and not any("Zig" in e for e in mine)
                # an article added in the window: the examples are made again from the new collection
                added = shots / "zig-on-the-server.md"
                added.write_text(ZIG, encoding="utf-8")
                page.get_by_text("Add articles", exact=True).click()
                page.locator("#upload input[type=file]").set_input_files(str(added))
                page.wait_for_function("[...document.querySelectorAll('#chat .example, #chat button.example')].some(e => e.innerText.includes('Zig'))", timeout=30_000)
                # the article picker narrows as you type
                page.get_by_text("Limit to articles", exact=True).click()
                page.locator("#filter input").first.click()
                page.wait_for_selector("#filter [role=option]", timeout=10_000)
                everything = page.locator("#filter [role=option]").count()
                page.locator("#filter input").first.type("Zig")
                page.wait_for_function("document.querySelectorAll('#filter [role=option]').length === 1", timeout=10_000)
                assert everything == 6 and "Zig on the server" in page.inner_text("#filter [role=option]")
                page.keyboard.press("Escape")

                # two questions, then a reload: the conversation is in the list and reopens with its sources
                box = page.locator("#question textarea")
                stored = None
                for n, q in enumerate(QUESTIONS[:2], start=1):
                    box.fill(q)
                    box.press("Enter")
                    page.wait_for_function(f"document.querySelectorAll('#chat .reply.answer:not(.streaming)').length >= {n}", timeout=60_000)
                    stored = page.wait_for_function(STORE_CHANGED, arg=stored, timeout=10_000).json_value()  # the turn is kept
                page.reload()
                page.locator("#question textarea").wait_for(timeout=30_000)
                page.wait_for_function("document.querySelector('#conversations').innerText.includes(\"What are Go's goroutines good for?\")", timeout=15_000)
                assert page.locator("#chat .reply").count() == 0
                page.locator("#conversations label").first.click()
                page.wait_for_function("document.querySelectorAll('#chat .reply.answer').length == 2", timeout=15_000)
                assert "polyglot" in page.inner_text("#sources .sources-for")
                assert page.locator("#sources .source mark").count() >= 1
                page.locator("#chat .reply.answer").first.locator("a.cite").first.click()  # the first answer's sources come back
                page.wait_for_function("document.querySelector('#sources .sources-for').textContent.includes('goroutines')", timeout=10_000)
                assert ">extractive<" in page.inner_html("#chat .reply.answer")

                # a thumbs-down writes one line; a comment joins it
                page.locator("#chat button[aria-label='Dislike']").first.click()
                page.locator("#feedback-comment textarea").wait_for(timeout=10_000)
                [line] = served.feedback.read_text(encoding="utf-8").splitlines()
                record = json.loads(line)
                assert record["verdict"] == "down" and record["question"] == QUESTIONS[0] and record["citations"]

                # export downloads Markdown with the numbered citations and quoted passages
                with page.expect_download(timeout=15_000) as download:
                    page.locator("#export").click()
                text = Path(download.value.path()).read_text(encoding="utf-8")
                assert download.value.suggested_filename == "conversation-what-are-go-s-goroutines-good-for.md"
                assert f"## 1. {QUESTIONS[0]}" in text and f"## 2. {QUESTIONS[1]}" in text
                assert "[1]" in text and "\n1. **" in text and "\n   > " in text

                # rename: the list says the new title
                page.locator("#conversation-title textarea, #conversation-title input").first.fill("Go and databases")
                page.locator("#rename").click()
                page.wait_for_function("document.querySelector('#conversations').innerText.includes('Go and databases')", timeout=10_000)
                page.screenshot(path=str(shots / "ui.png"))

                # a damaged browser store: one message, an empty list, and the chat still answers
                key = page.evaluate("() => Object.keys(localStorage).find(k => k.startsWith('article-assistant-'))")
                page.evaluate(f"() => localStorage.setItem({key!r}, 'not:encrypted json')")
                page.reload()
                page.wait_for_function(f"document.body.innerText.includes({conversations.STORE_DAMAGED!r})", timeout=15_000)
                assert "Go and databases" not in page.inner_text("#conversations")
                page.locator("#question textarea").fill(QUESTIONS[2])
                page.locator("#question textarea").press("Enter")
                page.wait_for_selector("#chat .reply.answer:not(.streaming)", timeout=60_000)
                page.wait_for_function("document.querySelector('#conversations').innerText.includes('FastAPI')", timeout=10_000)

                # deleting the conversation on screen empties the list and the chat
                page.locator("#conversations label").first.click()
                page.locator("#delete").click()
                page.wait_for_function("!document.querySelector('#conversations').innerText.includes('FastAPI')", timeout=10_000)
                page.wait_for_function("document.querySelectorAll('#chat .reply').length === 0", timeout=10_000)
            finally:
                browser.close()
    finally:
        other_app.close()
    print(f"screenshot: {shots / 'ui.png'}", file=sys.stderr)
