"""The real chat window under hostile input (issue 16), on 127.0.0.1 with the real model: titles,
questions and passages that hold Markdown render as text in headless Chromium and make the
browser request nothing off the machine."""

from __future__ import annotations

import re
import sys
from urllib.parse import urlsplit
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import free_port, write_article

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
PIXEL = "http://198.51.100.7/x?pixel=title"  # TEST-NET: nothing answers; only the attempt matters
HOSTILE_TITLE = f"Gecko care\n\n![pixel]({PIXEL}) ## heading"
GECKO_BODY = (
    "## Feeding\n\n"
    "Leopard geckos eat live crickets dusted with calcium powder ![food](http://198.51.100.7/food.png) twice a week. "
    "A shallow water dish should always be in the enclosure.\n"
)
QUESTION = "What do leopard geckos eat?\n\n![q](http://198.51.100.7/q.png)\n\n## big *words*"


@pytest.fixture(scope="module")
def served(real_embedder, tmp_path_factory):
    from assistant.core import Assistant
    from assistant.settings import Settings
    from ui.app import build_app, launch_options

    root = tmp_path_factory.mktemp("hardening-ui")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "gecko.md").write_text('---\ntitle: "Gecko care\\n\\n![pixel](' + PIXEL + ') ## heading"\n---\n\n' + GECKO_BODY)
    write_article(corpus, "go.md", "Go in 2026", "## Goroutines\n\nGoroutines are cheap threads that make concurrent Go servers simple to write.")
    assistant = Assistant.from_settings(Settings(corpus_dir=corpus, data_dir=root / "data"), embedder=real_embedder)
    assistant.index()
    assert any(title == HOSTILE_TITLE for _, title in assistant.articles())
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", root=root, corpus=corpus, assistant=assistant, port=port)
    finally:
        app.close()


def test_markdown_in_titles_questions_and_passages_renders_as_text_in_chromium(served):
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian packages chromium and chromium-driver: `make browser`)"
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(served.url)
            page.locator("#question textarea").wait_for(timeout=30_000)
            # the example built from the hostile title: shown as written
            example = page.get_by_role("button", name=re.compile(r"Select example \d+: What does .Gecko care"))
            assert "![pixel](" in example.inner_text()
            example.click()
            page.wait_for_selector("#chat .reply.answer:not(.streaming), #chat .reply.refusal", timeout=60_000)
            first_question = page.locator("#chat .question").first
            assert "![pixel](" in first_question.inner_text() and "## heading" in first_question.inner_text()
            # a typed question with blank lines, an image and a heading
            box = page.locator("#question textarea")
            box.fill(QUESTION)
            box.press("Enter")
            page.wait_for_function("document.querySelectorAll('#chat .reply.answer:not(.streaming)').length >= 2", timeout=60_000)
            typed = page.locator("#chat .question").nth(1).inner_text()
            assert "![q](http://198.51.100.7/q.png)" in typed and "## big *words*" in typed
            answer = page.locator("#chat .reply.answer").nth(1).inner_text()
            assert "crickets" in answer
            page.wait_for_selector("#sources .source", timeout=10_000)
            assert "![pixel](" in page.inner_text("#sources")  # the title on the source card, as text
            chat_markup = page.inner_html("#chat")
            for tag in ("<img", "<h1", "<h2", "<h3", "<em>", "<strong>"):
                assert tag not in chat_markup, tag
            assert page.locator("#sources img, #upload-result img, #status img").count() == 0
        finally:
            browser.close()
    outside = [u for u in requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != "127.0.0.1"]
    assert requests and outside == []


def test_question_bubble_is_one_line_of_escaped_text():
    from ui.render import question_html

    markup = question_html("Why?\n\n![x](http://198.51.100.7/x.png)\n\n<img src=x>")
    assert "\n" not in markup and "<img" not in markup and "&lt;img src=x&gt;" in markup
    assert markup.count("<br>") == 4


def test_examples_from_titles_are_one_line():
    from ui.handlers import examples_for

    [example] = examples_for([("gecko.md", HOSTILE_TITLE + "x" * 300)])
    assert "\n" not in example and len(example) < 150 and example.startswith("What does “Gecko care ![pixel](")


def connect(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False)


def call_upload(url: str, files: list[dict]) -> str:
    """``/upload`` through the REST API (gradio_client would rewrite names and paths); the result
    HTML, or the error event's text."""
    import json

    import httpx

    event = httpx.post(url + "gradio_api/call/upload", json={"data": [files]}).json()["event_id"]
    stream = httpx.get(url + f"gradio_api/call/upload/{event}", timeout=120).text
    if "event: complete" not in stream:
        return stream
    return json.loads(stream.split("event: complete\ndata:", 1)[1].strip().splitlines()[0])[0]


def sent(url: str, name: str, content: bytes) -> dict:
    import httpx

    [path] = httpx.post(url + "gradio_api/upload", files=[("files", (name, content))]).json()
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def test_chat_filter_accepts_an_article_uploaded_after_start_and_refuses_unknown_ones_in_one_line(served, tmp_path):
    from gradio_client import handle_file

    client = connect(served.url)
    path = tmp_path / "axolotl.md"
    path.write_text("# Axolotl care\n\nAxolotls need cool water below 20 degrees and a sandy floor.\n", encoding="utf-8")
    result, *_ = client.predict([handle_file(str(path))], api_name="/upload")
    assert "saved as axolotl.md" in result
    messages, sources, _ = client.predict("How cold should the water be?", ["axolotl.md"], api_name="/chat")
    assert "axolotl.md" in sources and "20 degrees" in messages[-1]["content"][0]["text"]
    with pytest.raises(Exception) as err:
        client.predict("How cold should the water be?", ["nope.md"], api_name="/chat")
    text = str(err.value)
    assert "'nope.md' is not an indexed article" in text and "gecko.md" not in text and "\n" not in text


def test_uploaded_temporaries_are_deleted_after_saving_or_refusing(served):
    import httpx

    good = sent(served.url, "newt.md", b"# Newts\n\nNewts are amphibians that return to ponds each spring to breed.\n")
    bad = sent(served.url, "photo.md", b"\x00\x01binary")
    assert Path(good["path"]).exists() and Path(bad["path"]).exists()
    result = call_upload(served.url, [good, bad])
    assert "saved as newt.md" in result and "photo.md: binary file" in result
    for f in (good, bad):
        assert not Path(f["path"]).exists()
        assert httpx.get(served.url + "gradio_api/file=" + f["path"]).status_code in (403, 404)


@pytest.mark.parametrize("path", ["/etc/passwd", "file:///etc/passwd", "tests/conftest.py", "README.md"])
def test_only_files_this_upload_received_are_sources_and_errors_show_no_paths(served, path):
    before = sorted(p.name for p in served.corpus.iterdir())
    result = call_upload(served.url, [{"path": path, "orig_name": "x.md", "meta": {"_type": "gradio.FileData"}}])
    assert before == sorted(p.name for p in served.corpus.iterdir())
    assert "saved as" not in result
    assert str(Path.cwd()) not in result and "Traceback" not in result and "Error(" not in result
    assert len(result) < 2_000


def test_malformed_api_calls_get_no_exception_text(served):
    import httpx

    for data in ([None, None, None], ["q", 5, "x", [], []], [[{"path": 3}]]):
        for api in ("chat", "upload"):
            response = httpx.post(served.url + f"gradio_api/call/{api}", json={"data": data})
            if response.status_code != 200:
                assert "Traceback" not in response.text and str(Path.cwd()) not in response.text
                continue
            event = response.json()["event_id"]
            stream = httpx.get(served.url + f"gradio_api/call/{api}/{event}", timeout=60).text
            assert "Traceback" not in stream and str(Path.cwd()) not in stream and "Exception" not in stream


def test_monitoring_is_off(served):
    import httpx

    for path in ("monitoring", "monitoring/summary", "gradio_api/monitoring/summary"):
        response = httpx.get(served.url + path)
        assert response.status_code in (403, 404) and "avg_duration" not in response.text


def test_pdf_bomb_upload_is_refused_quickly_beside_a_good_file_while_the_server_answers(served):
    import threading
    import time

    from test_hardening_loaders import pdf_bomb

    files = [sent(served.url, "bomb.pdf", pdf_bomb()), sent(served.url, "frogs.md", b"# Frogs\n\nTree frogs climb with sticky toe pads.\n")]
    done: dict[str, object] = {}

    def upload() -> None:
        start = time.monotonic()
        done["result"] = call_upload(served.url, files)
        done["seconds"] = time.monotonic() - start

    worker = threading.Thread(target=upload)
    worker.start()
    client = connect(served.url)
    answer = client.predict("What are goroutines?", api_name="/ask")  # answered meanwhile
    assert answer["citations"]
    worker.join(120)
    result = str(done["result"])
    assert "✗ bomb.pdf: PDF" in result and "saved as frogs.md" in result
    assert done["seconds"] < 30  # the refusal itself is bounded by the 4 s budget; indexing frogs.md follows


def test_three_concurrent_duplicate_uploads_through_the_app_save_one(served):
    from concurrent.futures import ThreadPoolExecutor

    text = b"# Skinks\n\nBlue-tongued skinks eat snails, greens and the odd berry.\n"
    batches = [[sent(served.url, f"skink-{i}.md", text)] for i in range(3)]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda files: call_upload(served.url, files), batches))
    assert sum("saved as" in r for r in results) == 1
    assert sum("already in the collection" in r for r in results) == 2
    assert len([p for p in served.corpus.iterdir() if p.name.startswith("skink")]) == 1


def test_errors_for_people_are_one_line_without_folder_paths():
    from ui.handlers import public_message

    assert public_message("another indexing run holds /srv/app/data/index.lock; wait") == "another indexing run holds index.lock; wait"
    assert public_message("bad\n\nthing at /etc/passwd") == "bad thing at passwd"
    assert public_message("the index cannot be read; run `assistant index --rebuild`") == "the index cannot be read; run `assistant index --rebuild`"


def test_upload_while_another_run_holds_the_index_lock_reports_it_without_the_path(served, monkeypatch):
    from corpus.errors import IndexStateError
    from ui import handlers

    def locked(*args, **kwargs):
        raise IndexStateError(f"another indexing run holds {served.root}/data/index.lock; wait for it to finish")

    monkeypatch.setattr(served.assistant, "index", locked)
    view = handlers.upload(served.assistant, [("lock-test.md", _tmp_article(served.root, b"# Lizards\n\nMonitor lizards are fast hunters.\n"))])
    assert "not indexed yet" in view.result and str(served.root) not in view.result and "index.lock" in view.result


def _tmp_article(root: Path, data: bytes) -> str:
    path = root / "lock-test.md"
    path.write_bytes(data)
    return str(path)
