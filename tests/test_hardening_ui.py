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
