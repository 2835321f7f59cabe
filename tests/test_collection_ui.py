"""The chat window in headless Chromium shows a comparison as a table and a trend answer as a list,
every [n] a link to its source. Set SHAPES_SCREENSHOT=path to keep the comparison's screenshot
(docs/comparison.png is made this way)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import free_port

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "articles"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def served(real_embedder, tmp_path_factory):
    from assistant.core import Assistant
    from assistant.settings import Settings
    from ui.app import build_app, launch_options

    root = tmp_path_factory.mktemp("shapes-ui")
    shutil.copytree(CORPUS, root / "corpus")
    assistant = Assistant.from_settings(Settings(corpus_dir=root / "corpus", data_dir=root / "data"), embedder=real_embedder)
    assistant.index()
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


def test_comparison_and_trend_answers_render_as_table_and_list(served, tmp_path: Path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (`make browser`)")
    from playwright.sync_api import sync_playwright

    shot = Path(os.environ.get("SHAPES_SCREENSHOT") or tmp_path / "comparison.png")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            page.goto(served)
            box = page.locator("#question textarea")
            box.wait_for(timeout=30_000)
            box.fill("Compare Express and NestJS.")
            box.press("Enter")
            page.wait_for_selector("#chat .reply.answer:not(.streaming) table.answer-table", timeout=60_000)
            table = page.locator("#chat table.answer-table").first
            assert table.locator("th").all_inner_texts() == ["Express", "NestJS"]
            cells = table.locator("td")
            assert cells.count() >= 4
            assert all(cells.nth(i).locator("a.cite").count() >= 1 or cells.nth(i).inner_text().strip() == "—" for i in range(cells.count()))
            page.wait_for_selector("#sources .source mark", timeout=10_000)
            page.evaluate("""() => { const t = document.querySelector('#chat table.answer-table');
                t.scrollIntoView({block: 'start'}); let p = t.parentElement;
                while (p && p.scrollHeight <= p.clientHeight) p = p.parentElement;
                if (p) p.scrollTop -= 90; }""")
            page.wait_for_timeout(300)
            page.screenshot(path=str(shot))
            box.fill("What trends do the articles expect for backend development in 2026?")
            box.press("Enter")
            page.wait_for_function("document.querySelectorAll('#chat .reply.answer:not(.streaming)').length >= 2", timeout=60_000)
            items = page.locator("#chat .reply.answer").nth(1).locator("li")
            assert items.count() >= 3 and "of 5 articles" in items.first.inner_text()
        finally:
            browser.close()
    print(f"screenshot: {shot}", file=sys.stderr)
    assert shot.stat().st_size > 20_000
