"""Feedback on answers: one JSON object a line in ``<data>/feedback.jsonl``, and the thumbs-down
ones turned into a question file for review (``assistant eval --feedback``).

A line is ``{"id", "time", "verdict": "up"|"down", "question", "turns", "answer", "refused",
"reason", "engine", "citations": [{"n", "title", "source", "text"}], "comment"}``; ``turns``
are the questions asked before it in the conversation (a follow-up needs them). A comment
given after the click is a later line with the same ``id``: readers keep the last line of
each id (``latest``), so the file is only ever appended to.

One writer at a time: a thread lock inside the process, ``fcntl.flock`` across processes, and
each line is a single ``os.write`` on a file opened with ``O_APPEND`` — concurrent clicks
never lose or interleave a line.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import AssistantError

__all__ = ["FeedbackStore", "feedback_record", "comment_record", "latest", "review_questions", "VERDICTS"]

VERDICTS = ("up", "down")
MAX_COMMENT = 2_000
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def feedback_record(
    verdict: str,
    question: str,
    answer: dict[str, Any],
    turns: Sequence[str] = (),
    comment: str = "",
    record_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The line for a verdict on ``answer`` (``Answer.to_dict()``-shaped). Pure but for the
    default id and time."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}. Currently, verdict is {verdict!r}")
    return {
        "id": record_id or uuid.uuid4().hex[:12],
        "time": round(time.time() if now is None else now, 3),
        "verdict": verdict,
        "question": str(question),
        "turns": [str(t) for t in turns],
        "answer": str(answer.get("answer", "")),
        "refused": bool(answer.get("refused", False)),
        "reason": answer.get("reason"),
        "engine": str(answer.get("engine", "")),
        "citations": [
            {k: c.get(k) for k in ("n", "title", "source", "text")} for c in answer.get("citations", []) if isinstance(c, dict)
        ],
        "comment": " ".join(str(comment).split())[:MAX_COMMENT],
    }


def comment_record(record: dict[str, Any], comment: str, now: float | None = None) -> dict[str, Any]:
    """``record`` again with ``comment``: appended, it replaces the earlier line of its id."""
    return {**record, "time": round(time.time() if now is None else now, 3), "comment": " ".join(str(comment).split())[:MAX_COMMENT]}


@dataclass(frozen=True)
class FeedbackStore:
    """Appends feedback lines to ``path`` (``<data>/feedback.jsonl``)."""

    path: Path

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line. ``AssistantError`` when the file cannot be written."""
        import fcntl

        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with _thread_lock(self.path):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise AssistantError(f"feedback not saved: {self.path.name} cannot be written ({exc.strerror or exc})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                written = os.write(fd, line)
                if written != len(line):  # a full disk: say so rather than leave half a line unsaid
                    raise OSError(28, "only part of the line was written")
            except OSError as exc:
                raise AssistantError(f"feedback not saved: {self.path.name} cannot be written ({exc.strerror or exc})") from None
            finally:
                os.close(fd)  # closing releases the flock

    def read(self) -> list[dict[str, Any]]:
        """Every readable line, in order; a damaged line is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise AssistantError(f"{self.path.name} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
        out = []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("verdict") in VERDICTS and record.get("question"):
                out.append(record)
        return out


def latest(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last line of each id, in the order the ids first appeared. Pure."""
    last: dict[str, dict[str, Any]] = {}
    for record in records:
        key = str(record.get("id") or id(record))
        last[key] = {**last.get(key, {}), **record}
    return list(last.values())


def review_questions(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Thumbs-down answers as a question file in the dev-set format (``/work/shared/eval``:
    ``id``, ``q`` or ``turns``, ``evidence``, ``answer_any``), one per distinct question, for a
    person to complete: ``evidence`` and ``answer_any`` start empty (empty evidence means "the
    articles do not answer it" to the scorer, so fill them in or keep it as a refusal
    question); ``feedback`` keeps what was answered, cited and said. Pure."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    for record in latest(records):
        if record.get("verdict") != "down":
            continue
        turns = [*record.get("turns", []), record["question"]]
        key = tuple(" ".join(t.lower().split()) for t in turns)
        if key in seen:
            continue
        seen.add(key)
        item: dict[str, Any] = {"id": f"fb-{record.get('id', len(out) + 1)}"}
        item.update({"turns": turns} if len(turns) > 1 else {"q": record["question"]})
        item.update(
            evidence=[],
            answer_any=[],
            feedback={
                "answer": record.get("answer", ""),
                "engine": record.get("engine", ""),
                "refused": record.get("refused", False),
                "cited": [c.get("source") for c in record.get("citations", [])],
                "comment": record.get("comment", ""),
                "time": record.get("time"),
            },
        )
        out.append(item)
    return out
