"""The window's side of articles that arrive on their own: a web-address box under "Add
articles" (``assistant.web_articles.add_urls``: fetched, saved and indexed like an upload), and
a status line and article list that follow re-indexes made elsewhere — the folder watcher of
``assistant ui --watch``, a CLI run, a feed sync — without a restart.

``add_urls_view`` and ``index_stamp`` are plain functions tests call directly; ``wire`` only
connects them to Gradio components ``ui.app`` builds. The box never fetches from private,
loopback or link-local addresses: a URL box must not become a way into the host's network.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from assistant.web_articles import add_urls
from ui import handlers, render

__all__ = ["MAX_URLS", "add_urls_view", "index_stamp", "url_box", "wire"]

MAX_URLS = 10  # addresses per submission
REFRESH_EVERY = 5.0  # seconds between looks at whether the index changed
log = logging.getLogger(__name__)


def add_urls_view(
    assistant: Any, text: str | None, progress: Callable[[float, str], None] | None = None, allow_private: bool = False
) -> handlers.UploadView:
    """Fetch, save and index the addresses in ``text`` (one per line or separated by spaces);
    one verdict line per address, the indexing summary, the new status and filter choices."""
    urls = [u for u in re.split(r"\s+", str(text or "").strip()) if u]
    status, choices = handlers.status_html, handlers.article_choices
    if not urls:
        return handlers.UploadView(render.upload_html([], "No web address given."), status(assistant), choices(assistant))
    if len(urls) > MAX_URLS:
        summary = f"{len(urls)} addresses; at most {MAX_URLS} at a time. Nothing fetched."
        return handlers.UploadView(render.upload_html([], summary), status(assistant), choices(assistant))
    try:
        report = add_urls(assistant, urls, allow_private=allow_private, progress=progress)
    except Exception:  # noqa: BLE001 - a bug must not leave the box spinning: say so, keep the details in the log
        log.exception("adding %d web addresses failed", len(urls))
        return handlers.UploadView(render.upload_html([], handlers.UNEXPECTED), status(assistant), choices(assistant))
    lines = [(o.ok, render.one_line(o.message, 300)) for o in report.outcomes]
    if report.error:
        summary = handlers.public_message(report.error)
    elif report.index is not None:
        summary = report.index.summary()
    else:
        summary = "Nothing new to index."
    return handlers.UploadView(render.upload_html(lines, summary), status(assistant), choices(assistant))


def index_stamp(assistant: Any) -> float:
    """When the index was last written (``last_index.json``'s modification time); 0 if never."""
    try:
        return (assistant.settings.data_dir / "last_index.json").stat().st_mtime
    except OSError:
        return 0.0


def url_box(gr: Any) -> Any:
    return gr.Textbox(
        label="Web page addresses",
        placeholder="https://… (one per line)",
        lines=1,
        max_lines=5,
        submit_btn="Add",
        elem_id="add-url",
    )


def wire(gr: Any, assistant: Any, box: Any, result: Any, status: Any, selected: Any, every: float = REFRESH_EVERY) -> None:
    """Inside the app's ``Blocks``: the box adds its addresses; a timer refreshes the status
    line and the article list whenever the index was written since the page last showed it."""

    def add(text: str, progress: Any = gr.Progress()) -> tuple[Any, ...]:
        view = add_urls_view(assistant, text, progress=lambda fraction, desc: progress(fraction, desc=desc))
        return view.result, view.status, gr.Dropdown(choices=view.choices), gr.Textbox(value="")

    def tick(seen: float) -> tuple[Any, ...]:
        now = index_stamp(assistant)
        if now == seen:
            return gr.skip(), gr.skip(), seen
        return handlers.status_html(assistant), gr.Dropdown(choices=handlers.article_choices(assistant)), now

    add.__annotations__ = {"text": str}
    tick.__annotations__ = {"seen": float}
    stamp = gr.State(index_stamp(assistant))
    box.submit(add, [box], [result, status, selected, box], api_name="add_url")
    gr.Timer(every).tick(tick, [stamp], [status, selected, stamp], api_visibility="private", show_progress="hidden")
