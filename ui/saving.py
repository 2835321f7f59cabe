"""What the person keeps from the window: a verdict on an answer (``<data>/feedback.jsonl``,
through ``assistant.feedback``) and a conversation exported as a Markdown file.

Plain functions, no Gradio: each returns what to show and a one-line message for anything that
went wrong, and never raises for something the person did, so the chat keeps working.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.feedback import FeedbackStore, comment_record, feedback_record
from corpus.errors import AssistantError
from ui import conversations
from ui.handlers import public_message

__all__ = ["FeedbackResult", "store_for", "give_feedback", "give_comment", "export", "NOT_AN_ANSWER"]

log = logging.getLogger(__name__)
NOT_AN_ANSWER = "Feedback goes on a finished answer of this conversation."
KEEP_EXPORTS_S = 3600.0


@dataclass(frozen=True)
class FeedbackResult:
    """The line written (None when nothing was), and a message for the person."""

    record: dict[str, Any] | None
    message: str
    ok: bool


def store_for(assistant: Any) -> FeedbackStore:
    """The feedback file of the data folder ``assistant`` uses."""
    return FeedbackStore(Path(assistant.settings.data_dir) / "feedback.jsonl")


def give_feedback(store: FeedbackStore, conversation: dict[str, Any] | None, message: Any, liked: Any) -> FeedbackResult:
    """Record a thumbs up (``liked`` True) or down (False) on chat message ``message``."""
    if liked not in (True, False):  # a click that takes a verdict back: nothing to record
        return FeedbackResult(None, "", True)
    found = conversations.turn_at(conversation, message)
    if found is None:
        return FeedbackResult(None, NOT_AN_ANSWER, False)
    position, turn = found
    record = feedback_record("up" if liked else "down", turn["question"], turn["answer"],
                             turns=conversations.history_before(conversation or {}, position))
    try:
        store.append(record)
    except AssistantError as exc:
        return FeedbackResult(None, public_message(exc), False)
    return FeedbackResult(record, "Thanks: noted. Add a comment below if you like.", True)


def give_comment(store: FeedbackStore, record: dict[str, Any] | None, comment: str) -> FeedbackResult:
    """Add ``comment`` to the verdict ``record`` given last (a later line with its id)."""
    if not record:
        return FeedbackResult(None, "Give a thumbs up or down on an answer first.", False)
    if not (comment or "").strip():
        return FeedbackResult(record, "The comment is empty; nothing saved.", False)
    line = comment_record(record, comment)
    try:
        store.append(line)
    except AssistantError as exc:
        return FeedbackResult(record, public_message(exc), False)
    return FeedbackResult(line, "Comment saved.", True)


def _prune(base: Path, older_than: float = KEEP_EXPORTS_S) -> None:
    """Remove exports written more than ``older_than`` seconds ago (Gradio has served its own copy)."""
    cutoff = time.time() - older_than
    for folder in base.glob("export-*"):
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def export(conversation: dict[str, Any] | None, folder: Path | None = None) -> tuple[Path | None, str]:
    """Write ``conversation`` as Markdown into a fresh folder (under ``folder``, or
    ``article-assistant-exports`` in the system's temporary one, where exports older than an
    hour are removed); ``(path, "")``, or ``(None, message)`` when there is nothing to export or
    the file cannot be written."""
    text = conversations.to_markdown(conversation or {})
    if text is None:
        return None, conversations.EMPTY_EXPORT
    base = folder or Path(tempfile.gettempdir()) / "article-assistant-exports"
    try:
        base.mkdir(parents=True, exist_ok=True)
        _prune(base)
        target = Path(tempfile.mkdtemp(prefix="export-", dir=base)) / conversations.export_name(conversation or {})
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        log.warning("export failed: %s", exc)
        return None, "The export could not be written on the server; nothing was lost, try again."
    return target, ""
