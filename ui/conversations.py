"""Saved conversations as plain JSON values, and their Markdown export. Pure functions.

The window keeps the list in the browser (``gr.BrowserState``, ``ui.app``); this module only
says what it holds and how it changes. The stored value::

    {"version": 1, "conversations": [conversation, ...]}        # newest first

    conversation = {"id", "title", "created", "updated", "engine",
                    "turns": [{"question", "message", "answer": {...}}, ...]}

``answer`` is enough of an ``Answer`` to draw the reply and its sources panel again
(``answer_record`` / ``answer_of``); ``message`` is the index of the reply in the chat as it
was shown, so a thumbs-up on it finds its turn (``turn_at``). Nothing here raises for a value
the browser sends: a damaged store reads as empty with a one-line ``problem``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.models import Answer, Citation
from ui import render

__all__ = [
    "Restored",
    "EMPTY_STORE",
    "STORE_DAMAGED",
    "EMPTY_EXPORT",
    "MAX_CONVERSATIONS",
    "new_conversation",
    "answer_record",
    "answer_of",
    "add_turn",
    "parse_store",
    "store_of",
    "saved",
    "renamed",
    "deleted",
    "find",
    "choices",
    "restore",
    "renumbered",
    "turn_at",
    "history_before",
    "to_markdown",
    "export_name",
]

VERSION = 1
EMPTY_STORE: dict[str, Any] = {"version": VERSION, "conversations": []}
MAX_CONVERSATIONS = 50  # the oldest go first
MAX_STORE_CHARS = 2_000_000  # browsers keep ~5 MB per site; Gradio stores the value encrypted (~1.4x)
MAX_TITLE = 80
STORE_DAMAGED = "The saved conversations in this browser could not be read, so the list starts empty again."
EMPTY_EXPORT = "Nothing to export yet: ask a question first."


@dataclass(frozen=True)
class Restored:
    """What the chat shows for a reopened conversation."""

    messages: list[dict[str, Any]]
    history: list[tuple[str, str]]
    panels: list[str]
    sources: str


def new_conversation(engine: str | None = None, now: float | None = None) -> dict[str, Any]:
    """An empty conversation with a fresh id."""
    stamp = time.time() if now is None else now
    return {"id": uuid.uuid4().hex[:12], "title": "", "created": stamp, "updated": stamp, "engine": engine, "turns": []}


def _citation_record(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "title": c.title, "source": c.source, "text": c.text, "score": round(c.score, 4), "section": c.section,
            "publisher": c.publisher, "date": c.date, "url": c.url, "quotes": list(c.quotes)}


def answer_record(answer: Answer) -> dict[str, Any]:
    """What is kept of ``answer``: ``Answer.to_dict()`` plus the citations' sections, dates and
    quoted sentences (the sources panel highlights them)."""
    return {**answer.to_dict(), "citations": [_citation_record(c) for c in answer.citations],
            "related": [_citation_record(c) for c in answer.related]}


def _citation_of(d: dict[str, Any]) -> Citation:
    return Citation(n=int(d["n"]), title=str(d.get("title", "")), source=str(d.get("source", "")), text=str(d.get("text", "")),
                    score=float(d.get("score") or 0.0), section=str(d.get("section") or ""), publisher=d.get("publisher"),
                    date=d.get("date"), url=_web_address(d.get("url")), quotes=tuple(str(q) for q in d.get("quotes", ())))


def _web_address(value: Any) -> str | None:
    """A stored URL when it is a web address (the browser store is not trusted)."""
    return value if isinstance(value, str) and value.lower().startswith(("http://", "https://")) else None


def answer_of(record: dict[str, Any]) -> Answer:
    """The ``Answer`` an ``answer_record`` came from (as far as the window shows it)."""
    return Answer(
        question=str(record.get("question", "")),
        text=str(record.get("answer", "")),
        citations=tuple(_citation_of(c) for c in record.get("citations", [])),
        refused=bool(record.get("refused", False)),
        reason=record.get("reason"),
        engine=str(record.get("engine") or "extractive"),
        notices=tuple(str(n) for n in record.get("notices", [])),
        shape=str(record.get("shape") or "factoid"),
        related=tuple(_citation_of(c) for c in record.get("related", [])),
    )


def _title(question: str) -> str:
    return render.one_line(question, MAX_TITLE) or "Untitled"


def add_turn(conversation: dict[str, Any], question: str, answer: Answer, message: int, now: float | None = None) -> dict[str, Any]:
    """``conversation`` with one more answered turn; the first question is its title (until
    renamed). ``message`` is the reply's index in the chat. ``conversation`` is not modified."""
    turns = [*conversation.get("turns", []), {"question": question, "message": message, "answer": answer_record(answer)}]
    return {**conversation, "title": conversation.get("title") or _title(question), "turns": turns,
            "engine": answer.engine, "updated": time.time() if now is None else now}


def _valid_answer(d: Any) -> bool:
    if not isinstance(d, dict) or not isinstance(d.get("answer"), str) or not isinstance(d.get("citations", []), list):
        return False
    try:
        answer_of(d)
    except (KeyError, TypeError, ValueError):
        return False
    return True


def _valid(conversation: Any) -> bool:
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return False
    turns = conversation.get("turns")
    return isinstance(turns, list) and all(
        isinstance(t, dict) and isinstance(t.get("question"), str) and _valid_answer(t.get("answer")) for t in turns
    )


def parse_store(value: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The conversations the browser sent, and a one-line problem when the value was damaged
    (unreadable values are dropped, never passed on). ``None`` or the empty store: no problem."""
    if value is None:
        return [], None
    if not isinstance(value, dict) or not isinstance(value.get("conversations"), list):
        return [], STORE_DAMAGED
    kept = [c for c in value["conversations"] if _valid(c)]
    problem = STORE_DAMAGED if len(kept) != len(value["conversations"]) else None
    return kept[:MAX_CONVERSATIONS], problem


def store_of(conversations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The value to keep in the browser: at most ``MAX_CONVERSATIONS``, and the oldest dropped
    while the whole is over ``MAX_STORE_CHARS`` (the browser refuses a larger value, silently)."""
    kept, size = [], 0
    for conversation in list(conversations)[:MAX_CONVERSATIONS]:
        size += len(json.dumps(conversation, ensure_ascii=False))
        if kept and size > MAX_STORE_CHARS:
            break
        kept.append(conversation)
    return {"version": VERSION, "conversations": kept}


def saved(conversations: Sequence[dict[str, Any]], conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The list with ``conversation`` first (replacing its earlier copy); an empty one is not kept."""
    rest = [c for c in conversations if c.get("id") != conversation.get("id")]
    if not conversation.get("turns"):
        return rest
    return [conversation, *rest][:MAX_CONVERSATIONS]


def renamed(conversations: Sequence[dict[str, Any]], conversation_id: str | None, title: str) -> tuple[list[dict[str, Any]], str | None]:
    """The list with conversation ``conversation_id`` titled ``title``, and a problem line
    when there is nothing to rename or the title is empty."""
    clean = render.one_line(title or "", MAX_TITLE)
    if not clean:
        return list(conversations), "A title needs at least one character."
    if find(conversations, conversation_id) is None:
        return list(conversations), "Pick a saved conversation to rename first."
    return [{**c, "title": clean} if c.get("id") == conversation_id else c for c in conversations], None


def deleted(conversations: Sequence[dict[str, Any]], conversation_id: str | None) -> list[dict[str, Any]]:
    return [c for c in conversations if c.get("id") != conversation_id]


def find(conversations: Sequence[dict[str, Any]], conversation_id: str | None) -> dict[str, Any] | None:
    return next((c for c in conversations if c.get("id") == conversation_id), None) if conversation_id else None


def choices(conversations: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(title, id)`` pairs for the sidebar, newest first."""
    return [(c.get("title") or "Untitled", c["id"]) for c in conversations]


def restore(conversation: dict[str, Any]) -> Restored:
    """The chat, history and sources panels of a saved conversation, drawn again."""
    messages: list[dict[str, Any]] = []
    history: list[tuple[str, str]] = []
    panels: list[str] = []
    for turn in conversation.get("turns", []):
        answer = answer_of(turn["answer"])
        panel = render.sources_html(answer)
        messages += [{"role": "user", "content": render.question_html(turn["question"])},
                     {"role": "assistant", "content": render.answer_html(answer)}]
        panels += [panel, panel]
        history.append((turn["question"], answer.text))
    return Restored(messages, history, panels, panels[-1] if panels else render.SOURCES_EMPTY)


def renumbered(conversation: dict[str, Any]) -> dict[str, Any]:
    """``conversation`` with each turn's ``message`` index as ``restore`` draws it."""
    return {**conversation, "turns": [{**t, "message": 2 * i + 1} for i, t in enumerate(conversation.get("turns", []))]}


def turn_at(conversation: dict[str, Any] | None, message: Any) -> tuple[int, dict[str, Any]] | None:
    """``(position, turn)`` of the turn whose reply is chat message ``message``; None when the
    message is not an answer of this conversation (a question, an error, a stopped reply)."""
    while isinstance(message, (list, tuple)) and message:
        message = message[0]
    for i, turn in enumerate((conversation or {}).get("turns", [])):
        if isinstance(message, int) and turn.get("message") == message:
            return i, turn
    return None


def history_before(conversation: dict[str, Any], position: int) -> list[str]:
    """The questions asked before turn ``position``."""
    return [t["question"] for t in conversation.get("turns", [])[:position]]


def _quote(text: str) -> str:
    return "\n".join(f"   > {line}" if line.strip() else "   >" for line in text.strip().split("\n"))


def _sources_markdown(citations: Sequence[Citation]) -> list[str]:
    lines = ["", "Sources:", ""]
    for c in citations:
        meta = " · ".join(x for x in (c.publisher, c.date) if x)
        where = f"`{c.source}`" + (f", § {c.section}" if c.section else "") + (f", <{c.url}>" if c.url else "")
        lines.append(f"{c.n}. **{c.title}**{' — ' + meta if meta else ''} — {where}")
        lines.append(_quote(" … ".join(c.quotes) if c.quotes else render.one_line(c.text, 600)))
    return lines


def to_markdown(conversation: dict[str, Any], now: float | None = None) -> str | None:
    """The conversation as Markdown: each question, the answer with its ``[n]`` markers, and
    the numbered sources with the quoted passages. None for a conversation with no answers."""
    turns = conversation.get("turns") or []
    if not turns:
        return None
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() if now is None else now))
    out = [f"# {conversation.get('title') or 'Conversation'}", "",
           f"_Exported from the article assistant on {stamp} · {len(turns)} question{'s' if len(turns) != 1 else ''}_"]
    for i, turn in enumerate(turns, start=1):
        answer = answer_of(turn["answer"])
        out += ["", f"## {i}. {render.one_line(turn['question'], 300)}", ""]
        if answer.refused:
            out.append(f"_No answer ({render.refusal_reason(answer)})._ {answer.text.strip()}")
        else:
            out.append(answer.text.strip())
            out += ["", f"_Answered by the {render.engine_label(answer.engine)} engine._"]
            out += _sources_markdown(answer.citations)
    return "\n".join(out) + "\n"


def export_name(conversation: dict[str, Any]) -> str:
    """A safe file name for the export: ``conversation-<title words>.md``."""
    slug = re.sub(r"[^a-z0-9]+", "-", (conversation.get("title") or "").lower()).strip("-")[:50].rstrip("-")
    return f"conversation-{slug or conversation.get('id', 'export')}.md"
