"""Value types of the assistant stage, shared by the Python API, the CLI and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Passage", "Citation", "Answer"]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk. ``score`` is the fused relevance: higher is better."""

    chunk_id: str
    text: str
    title: str
    source: str
    section: str
    score: float
    start: int = 0
    end: int = 0
    publisher: str | None = None
    date: str | None = None
    dense_score: float | None = None
    keyword_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """Passage ``[n]`` of an answer; ``quotes`` are its sentences the answer relies on."""

    n: int
    title: str
    source: str
    text: str
    score: float
    section: str = ""
    publisher: str | None = None
    date: str | None = None
    chunk_id: str = ""
    quotes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "title": self.title, "source": self.source, "text": self.text, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Answer:
    """An answer whose every ``[n]`` points at ``citations[n-1]``.

    ``refused`` is True when the articles do not cover the question (or it cannot be asked);
    then ``citations`` is empty and ``reason`` says why: ``not_covered``, ``empty_question``,
    ``question_too_long``.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    reason: str | None = None
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    engine: str = "extractive"
    notices: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``assistant ask --json`` and of the UI's ``/ask`` endpoint."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
        }
