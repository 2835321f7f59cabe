"""The window's left column: saved conversations (kept in the browser with ``gr.BrowserState``),
rename, delete, Markdown export, the engine picker; and feedback on answers (the chat's like
buttons, an optional comment). ``ui.app`` builds it (``build``) and hooks it to the chat
(``wire``); what happens is in ``ui.conversations`` and ``ui.saving``.

Each window (data folder) has its own browser store key, so a window serving another
collection lists its own conversations. The store's "secret" is not one — Gradio sends it to
the page — it only keeps the key stable across restarts, so the list survives them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ui import conversations, handlers, render, saving

__all__ = ["Sidebar", "build", "feedback_box", "wire", "after_turn"]


def _has_stored(key: str) -> str:
    """Page-side: pass the store on, and whether the browser holds anything under ``key``
    (Gradio hands the default over when it cannot decrypt or parse what is there)."""
    return f"(store, flag) => [store, localStorage.getItem({json.dumps(key)}) !== null]"


# download the export as soon as its link appears (each export has a new address)
_CLICK_EXPORT = """async () => {
  for (let i = 0; i < 60; i++) {
    const a = document.querySelector('#export-file a[download]');
    if (a && a.href !== window.lastExport) { window.lastExport = a.href; a.click(); return; }
    await new Promise(r => setTimeout(r, 100));
  }
}"""


@dataclass(frozen=True)
class Sidebar:
    store: Any  # gr.BrowserState: {"version", "conversations"}
    stored: Any  # hidden checkbox: the browser holds a value under the store key
    current: Any  # gr.State: the conversation on screen
    listing: Any
    title: Any
    rename: Any
    delete: Any
    export: Any
    export_file: Any
    engine: Any
    feedback_row: Any
    comment: Any
    send_comment: Any
    given: Any  # gr.State: the last verdict written (a comment joins it)


def storage_key(assistant: Any) -> str:
    s = assistant.settings
    ident = f"{Path(s.data_dir).resolve()}|{Path(s.corpus_dir).resolve()}"
    return "article-assistant-" + hashlib.sha256(ident.encode()).hexdigest()[:12]


def engine_names(assistant: Any) -> tuple[str, ...]:
    return tuple(assistant.engine_names())


def build(gr: Any, assistant: Any) -> Sidebar:
    """The sidebar's components (call inside the ``Blocks``)."""
    key = storage_key(assistant)
    names = engine_names(assistant)
    store = gr.BrowserState(None, storage_key=key, secret=key)
    with gr.Column(scale=1, min_width=220, elem_id="sidebar"):
        listing = gr.Radio(choices=[], value=None, label="Saved conversations", elem_id="conversations",
                           info="Kept in this browser. Pick one to reopen it.")
        title = gr.Textbox(label="Title", placeholder="Rename the chosen conversation", elem_id="conversation-title", max_lines=1)
        with gr.Row():
            rename = gr.Button("Rename", size="sm", elem_id="rename")
            delete = gr.Button("Delete", size="sm", variant="stop", elem_id="delete")
        export = gr.Button("Export as Markdown", size="sm", elem_id="export")
        export_file = gr.File(label="Exported conversation", visible=False, interactive=False, elem_id="export-file")
        engine = gr.Dropdown(
            choices=[(render.engine_label(n), n) for n in names],
            value=names[0] if names else None,
            label="Engine",
            info="Which engine answers the next questions of this conversation.",
            visible=len(names) > 1,
            elem_id="engine",
        )
    stored = gr.Checkbox(False, visible=False, elem_id="store-flag")
    return Sidebar(store, stored, gr.State(None), listing, title, rename, delete, export, export_file, engine,
                   None, None, None, gr.State(None))


def feedback_box(gr: Any, bar: Sidebar) -> Sidebar:
    """The comment row under the chat (hidden until a verdict is given)."""
    from dataclasses import replace

    with gr.Row(visible=False, elem_id="feedback-row") as row:
        comment = gr.Textbox(show_label=False, label="Comment", placeholder="What was wrong or right about it? (optional)",
                             scale=4, max_lines=3, elem_id="feedback-comment")
        send = gr.Button("Send comment", size="sm", scale=1, elem_id="feedback-send")
    return replace(bar, feedback_row=row, comment=comment, send_comment=send)


def after_turn(current: dict[str, Any] | None, question: str, view: Any, engine: str | None) -> dict[str, Any] | None:
    """The conversation after a finished turn (``view``: ``handlers.ChatView``); unchanged
    when the turn gave no answer (an error, a stop). Pure."""
    if view.answer is None:
        return current
    base = current or conversations.new_conversation(engine)
    return conversations.add_turn(base, question, view.answer, message=len(view.messages) - 1)


def wire(gr: Any, app: Any, assistant: Any, bar: Sidebar, chatbot: Any, chat_outputs: list[Any], turns: list[Any],
         cleared: list[Any]) -> None:
    """Events: load the list, keep each finished turn, reopen/rename/delete/export, feedback.
    ``chat_outputs`` are the chat's ``[chatbot, messages, history, sources, question, panels]``;
    ``turns`` the events that answer a question; ``cleared`` those that start a new conversation."""
    feedback = saving.store_for(assistant)
    names = engine_names(assistant)

    def warn(message: str | None) -> None:
        if message:
            gr.Warning(message)

    def listing(convs: list[dict[str, Any]], chosen: str | None = None) -> Any:
        return gr.Radio(choices=conversations.choices(convs), value=chosen)

    def load(store: Any, stored: bool):
        convs, problem = conversations.parse_store(store)
        if store is None and stored:  # the browser holds a value Gradio could not decrypt or parse
            problem = conversations.STORE_DAMAGED
        warn(problem)
        return (conversations.store_of(convs) if problem else gr.skip()), listing(convs)

    def keep(current: dict[str, Any] | None, store: Any):
        convs, _ = conversations.parse_store(store)
        if not current or not current.get("turns"):
            return gr.skip(), gr.skip()
        kept = conversations.store_of(conversations.saved(convs, current))
        return kept, listing(kept["conversations"], current["id"])

    def reopen(chosen: str | None, store: Any):
        convs, _ = conversations.parse_store(store)
        found = conversations.find(convs, chosen)
        if found is None:
            warn("That conversation is no longer saved in this browser.")
            return (gr.skip(),) * 9
        found = conversations.renumbered(found)
        shown = conversations.restore(found)
        engine = found.get("engine") if found.get("engine") in names else gr.skip()
        return (shown.messages, shown.messages, shown.history, shown.sources, "", shown.panels, found,
                found.get("title", ""), engine)

    def rename(chosen: str | None, title: str, store: Any, current: dict[str, Any] | None):
        convs, _ = conversations.parse_store(store)
        convs, problem = conversations.renamed(convs, chosen, title)
        if problem:
            warn(problem)
            return gr.skip(), gr.skip(), gr.skip()
        if current and current.get("id") == chosen:
            current = {**current, "title": conversations.find(convs, chosen)["title"]}
        return conversations.store_of(convs), listing(convs, chosen), current

    def delete(chosen: str | None, store: Any, current: dict[str, Any] | None):
        convs, _ = conversations.parse_store(store)
        if conversations.find(convs, chosen) is None:
            warn("Pick a saved conversation to delete first.")
            return (gr.skip(),) * (4 + len(chat_outputs))
        convs = conversations.deleted(convs, chosen)
        if current and current.get("id") == chosen:  # the one on screen goes too
            view = handlers.cleared()
            chat = (view.messages, view.messages, view.history, view.sources, "", view.panels)
            return conversations.store_of(convs), listing(convs), None, "", *chat
        return conversations.store_of(convs), listing(convs), current, "", *(gr.skip(),) * len(chat_outputs)

    def export(current: dict[str, Any] | None):
        path, problem = saving.export(current)
        if path is None:
            warn(problem)
            return gr.File(value=None, visible=False)
        return gr.File(value=str(path), visible=True)

    def like(current: dict[str, Any] | None, evt: gr.LikeData):
        result = saving.give_feedback(feedback, current, evt.index, evt.liked)
        if not result.ok:
            warn(result.message)
            return gr.skip(), gr.skip(), gr.skip()
        if result.record is None:
            return gr.Row(visible=False), None, ""
        gr.Info(result.message)
        return gr.Row(visible=True), result.record, ""

    def comment(given: dict[str, Any] | None, text: str):
        result = saving.give_comment(feedback, given, text)
        if not result.ok:
            warn(result.message)
            return gr.skip(), gr.skip(), gr.skip()
        gr.Info(result.message)
        return gr.Row(visible=False), result.record, ""

    like.__annotations__ = {"current": dict, "evt": gr.LikeData}
    private = {"api_visibility": "private", "show_progress": "hidden"}
    app.load(load, [bar.store, bar.stored], [bar.store, bar.listing], js=_has_stored(bar.store.storage_key), **private)
    for event in turns:
        event.then(keep, [bar.current, bar.store], [bar.store, bar.listing], **private)
    for event in cleared:
        event.then(lambda: (None, gr.Radio(value=None), gr.Row(visible=False)), None, [bar.current, bar.listing, bar.feedback_row], **private)
    bar.listing.input(reopen, [bar.listing, bar.store], [*chat_outputs, bar.current, bar.title, bar.engine], **private)
    bar.rename.click(rename, [bar.listing, bar.title, bar.store, bar.current], [bar.store, bar.listing, bar.current], **private)
    bar.title.submit(rename, [bar.listing, bar.title, bar.store, bar.current], [bar.store, bar.listing, bar.current], **private)
    bar.delete.click(delete, [bar.listing, bar.store, bar.current], [bar.store, bar.listing, bar.current, bar.title, *chat_outputs], **private)
    bar.export.click(export, [bar.current], [bar.export_file], **private).then(None, None, None, js=_CLICK_EXPORT, **private)
    chatbot.like(like, [bar.current], [bar.feedback_row, bar.given, bar.comment], api_name="feedback", show_progress="hidden")
    bar.send_comment.click(comment, [bar.given, bar.comment], [bar.feedback_row, bar.given, bar.comment], **private)
    bar.comment.submit(comment, [bar.given, bar.comment], [bar.feedback_row, bar.given, bar.comment], **private)
