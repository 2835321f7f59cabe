"""The chat window's behaviour as plain functions: each takes an ``Assistant`` (and what the
components hold) and returns what the components show. ``ui.app`` only wires them to Gradio;
tests call them directly.

``AssistantError`` is turned into a message for the person here, once.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.models import Answer
from assistant.uploads import add_articles
from corpus.errors import AssistantError
from ui import render

__all__ = [
    "ChatView",
    "UploadView",
    "respond",
    "cleared",
    "stopped",
    "panel_for",
    "ask_json",
    "article_choices",
    "status_html",
    "examples_for",
    "upload",
    "public_message",
]

Message = dict[str, Any]
log = logging.getLogger(__name__)
UNEXPECTED = "Sorry — something went wrong on the server; the details are in its log."

# headings that name a part of an article, not a topic to ask about
_GENERIC_HEADINGS = {"conclusion", "conclusions", "introduction", "overview", "summary", "references", "final thoughts",
                     "image by author", "table of contents", "contents", "faq", "faqs", "related", "about", "notes"}


@dataclass(frozen=True)
class ChatView:
    """What the chat shows after a step: the messages, the sources panel, the history kept for
    follow-ups (``(question, answer text)`` pairs), and whether the answer is complete."""

    messages: list[Message]
    sources: str
    history: list[tuple[str, str]]
    done: bool = True
    answer: Answer | None = field(default=None, repr=False)
    panels: list[str] = field(default_factory=list, repr=False)  # sources panel per message


@dataclass(frozen=True)
class UploadView:
    result: str
    status: str
    choices: list[tuple[str, str]]


def _user_message(text: str) -> Message:
    return {"role": "user", "content": render.question_html(text)}


def _assistant_message(markup: str) -> Message:
    return {"role": "assistant", "content": markup}


def respond(
    assistant: Any,
    message: str,
    messages: Sequence[Message] | None = None,
    history: Sequence[tuple[str, str]] | None = None,
    sources: Sequence[str] | None = None,
    panels: Sequence[str] | None = None,
    engine: str | None = None,
) -> Iterator[ChatView]:
    """Ask ``message`` as the next turn; yields the view as the answer streams in.

    ``messages``, ``history`` and ``panels`` (the sources panel of each message) are the
    session's so far, never modified; ``sources`` restricts retrieval to those articles
    (empty = all); ``engine`` names the engine that answers (None: the default).
    """
    before = list(messages or [])
    pairs = [tuple(p) for p in (history or [])]
    earlier = (list(panels or []) + [render.SOURCES_EMPTY] * len(before))[: len(before)]
    question = (message or "").strip()
    if not question:
        return
    shown = [*before, _user_message(question)]

    def view(reply: str, panel: str = render.SOURCES_EMPTY, turns: list[Any] = pairs, done: bool = False, answer: Answer | None = None) -> ChatView:
        return ChatView([*shown, _assistant_message(reply)], panel, list(turns), done, answer, [*earlier, panel, panel])

    yield view(render.pending_html(len(sources or ())))
    text = ""
    try:
        for piece in assistant.ask_stream(question, history=tuple(pairs), sources=list(sources) if sources else None, engine=engine or None):
            if isinstance(piece, Answer):
                answer = piece
                break
            text += piece.text
            yield view(render.partial_html(text))
        else:
            raise AssistantError("the answer stream ended without an answer")
    except AssistantError as exc:
        yield view(render.error_html(f"Sorry — {public_message(exc)}"), done=True)
        return
    except Exception:  # a bug must not leave the chat hanging: say so, keep the details in the log
        log.exception("answering %r failed", question[:200])
        yield view(render.error_html(UNEXPECTED), done=True)
        return
    panel = render.sources_html(answer)
    yield view(render.answer_html(answer), panel, [*pairs, (question, answer.text)], True, answer)


def stopped(
    messages: Sequence[Message] | None, history: Sequence[tuple[str, str]] | None, panels: Sequence[str] | None
) -> ChatView:
    """The view after the person stops an answer: an unfinished reply becomes a short notice
    (its unchecked text is not kept) and the turn stays out of the history."""
    shown = list(messages or [])
    if shown and shown[-1].get("role") == "assistant" and render.is_unfinished(str(shown[-1].get("content", ""))):
        shown[-1] = _assistant_message(render.stopped_html())
    return ChatView(shown, render.SOURCES_EMPTY, [tuple(p) for p in (history or [])], panels=list(panels or []))


def panel_for(panels: Sequence[str], index: Any) -> str | None:
    """The sources panel of message ``index`` (what a click on an earlier answer shows);
    None when there is no such message."""
    while isinstance(index, (list, tuple)) and index:
        index = index[0]
    if isinstance(index, int) and 0 <= index < len(panels):
        return panels[index]
    return None


def cleared() -> ChatView:
    """An empty conversation."""
    return ChatView([], render.SOURCES_EMPTY, [])


def ask_json(assistant: Any, question: str) -> dict[str, Any]:
    """The ``/ask`` endpoint: exactly ``assistant ask --json``'s object."""
    return assistant.ask(question).to_dict()


def article_choices(assistant: Any) -> list[tuple[str, str]]:
    """``(title, source)`` pairs for the article filter; empty when the index is."""
    try:
        articles = assistant.articles()
    except AssistantError:
        return []
    counts: dict[str, int] = {}
    for _, title in articles:
        counts[title] = counts.get(title, 0) + 1
    return [(title if counts[title] == 1 else f"{title} ({source})", source) for source, title in articles]


def status_html(assistant: Any) -> str:
    try:
        return render.status_line(assistant.status())
    except AssistantError as exc:
        return render.status_line(None, error=public_message(exc))


def _topic(heading: str, title: str) -> str | None:
    """A section heading as a topic to ask about, or None ("Conclusion", a question, a long line)."""
    text = re.sub(r"^\s*\d+[.)]\s*", "", heading).strip()
    if not text or text.endswith("?") or len(text.split()) > 6 or text.lower() in _GENERIC_HEADINGS or text == title:
        return None
    return text


def examples_for(articles: Sequence[tuple[str, ...]]) -> list[str]:
    """Example questions made from the indexed articles (``(source, title[, headings])``): what
    the first article says about its shortest topic heading (among its first six), what the
    articles say about the next ones' topics, and a summary of one; an article without headings gives "What does <title>
    say?". Pure."""
    out: list[str] = []
    for i, entry in enumerate(list(articles)[:3]):
        title, headings = entry[1], tuple(entry[2]) if len(entry) > 2 else ()
        topics = [t for t in (_topic(h, title) for h in headings[:6]) if t]
        topic = min(topics, key=lambda t: len(t.split())) if topics else None  # the most topic-like: the shortest
        if topic is None:
            out.append(f"What does “{render.one_line(title, 120)}” say?")
        elif i == 0:
            out.append(f"What does “{render.one_line(title, 120)}” say about {render.one_line(topic, 80)}?")
        else:
            out.append(f"What do the articles say about {render.one_line(topic, 80)}?")
    with_headings = [e for e in articles if len(e) > 2 and e[2]]
    if with_headings:
        out.append(f"Summarize “{render.one_line(with_headings[-1 if len(with_headings) > 1 else 0][1], 120)}”.")
    return list(dict.fromkeys(out))[:4]


_PATH = re.compile(r"""(?:[A-Za-z]:)?(?:[\\/][^\s\\/'"]+)+[\\/]([^\s\\/'"]*)""")


def public_message(error: Any) -> str:
    """An error for the person (or an API client): one line, and folder paths cut to their last
    part, so the server's layout (data folder, working directory) is not shown. Pure."""
    text = _PATH.sub(lambda m: m.group(1) or "…", str(error))
    return render.one_line(text, 300)


def _file_name(item: Any) -> tuple[str, Any]:
    """``(name, path)`` of an uploaded file: given as such, or a bare path (its base name).
    The path is None for a source the upload did not receive (``ui.app`` decides)."""
    if isinstance(item, (tuple, list)):
        name, path = item
        return str(name), (os.fspath(path) if path is not None else None)
    path = os.fspath(item)
    return Path(path).name, path


NOT_RECEIVED = "not a file received by this upload; refused"


def upload(
    assistant: Any, files: Sequence[Any] | None, progress: Callable[[float, str], None] | None = None
) -> UploadView:
    """Save and index uploaded files (paths, or ``(name, path)`` pairs); the per-file outcome,
    the new status and the filter choices. Never raises: every file gets a one-line verdict."""
    try:
        items = [_file_name(f) for f in (files or []) if f]
    except (TypeError, ValueError):
        return UploadView(render.upload_html([], "The upload could not be read; nothing saved."), status_html(assistant), article_choices(assistant))
    if not items:
        return UploadView(render.upload_html([], "No files chosen."), status_html(assistant), article_choices(assistant))
    usable = [(name, path) for name, path in items if path is not None]
    report = None
    if usable:
        try:
            report = add_articles(assistant, usable, progress=progress)
        except Exception:
            log.exception("adding %d uploaded files failed", len(usable))
            return UploadView(render.upload_html([], UNEXPECTED), status_html(assistant), article_choices(assistant))
    outcomes = iter(report.outcomes if report else ())
    lines: list[tuple[bool, str]] = []
    for name, path in items:  # in the order sent; add_articles kept the order of the usable ones
        if path is None:
            lines.append((False, f"{render.one_line(name, 80)}: {NOT_RECEIVED}"))
        else:
            outcome = next(outcomes)
            lines.append((outcome.ok, outcome.message))
    if report is not None and report.error:
        summary = public_message(report.error)
    elif report is not None and report.index is not None:
        summary = report.index.summary()
    else:
        summary = "Nothing new to index."
    return UploadView(render.upload_html(lines, summary), status_html(assistant), article_choices(assistant))
