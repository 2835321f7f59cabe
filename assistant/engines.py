"""Answer engines: the typed seam between ``Assistant`` and what writes an answer.

An engine answers a question over retrieved passages (``answer``) and streams the same answer
(``answer_stream``: ``TextDelta`` pieces, then the ``Answer``). An engine that can turn a
follow-up into a standalone question implements ``Condenser`` too; one that can write an overview
on top of a whole-collection answer implements ``Overviewer``. The extractive engine is
always there; the LLM engines (``local``: llama.cpp with the packaged model, ``openai``: any
OpenAI-compatible server) are offered where they can run.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from assistant.conversation import History
from assistant.models import Answer, Passage, StreamEvent, TextDelta

__all__ = ["AnswerEngine", "Condenser", "Overviewer", "ENGINE_LABELS", "available_engines", "text_pieces", "stream_of"]

ENGINE_LABELS = {"extractive": "extractive", "local": "local model", "openai": "OpenAI-compatible server"}

# a sentence (with its citation markers) and the space after it; the last piece takes the rest
_SENTENCE_PIECE = re.compile(r".+?(?:[.!?\]]\S*\s+|$)", re.S)
_LINE_PIECE = re.compile(r"[^\n]*\n|[^\n]+$")  # lists and tables stream a line at a time


@runtime_checkable
class AnswerEngine(Protocol):
    """Writes a cited ``Answer`` to ``question`` from ``passages`` (retrieved for ``query``)."""

    name: str

    def answer(
        self, question: str, query: str, passages: Sequence[Passage], sources: Sequence[str] | None = None
    ) -> Answer: ...

    def answer_stream(
        self, question: str, query: str, passages: Sequence[Passage], sources: Sequence[str] | None = None
    ) -> Iterator[StreamEvent]: ...


@runtime_checkable
class Condenser(Protocol):
    """An engine that rewrites a follow-up (``question`` after ``history``) as a standalone one."""

    def condense(self, question: str, history: History) -> str: ...


@runtime_checkable
class Overviewer(Protocol):
    """An engine that writes a short verified overview on top of a structured whole-collection
    ``answer`` (collection-wide, comparison, summary): the overview's sentences (``TextDelta``),
    the structured text unchanged below them, then the ``Answer``."""

    def overview_stream(self, question: str, answer: Answer) -> Iterator[StreamEvent]: ...


def text_pieces(text: str, by_line: bool = False) -> list[str]:
    """``text`` cut into sentences (or lines) that join back to it exactly."""
    return (_LINE_PIECE if by_line else _SENTENCE_PIECE).findall(text) or ([text] if text else [])


def stream_of(answer: Answer, by_line: bool = False) -> Iterator[StreamEvent]:
    """A finished ``answer`` as a stream: its text a piece at a time, then the answer."""
    for piece in text_pieces(answer.text, by_line):
        yield TextDelta(piece)
    yield answer


def _local_model_installed() -> bool:
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        from assistant.llm.model_files import part_paths

        part_paths()
    except Exception:  # noqa: BLE001 - any failure to find the parts means: not offered
        return False
    return True


def available_engines(settings: Any) -> tuple[str, ...]:
    """The engines this installation can answer with: extractive, the configured one, the local
    model when llama.cpp and the model parts are installed, and an OpenAI-compatible server
    when ``llm_base_url`` is set."""
    names = ["extractive"]
    if settings.engine not in names:
        names.append(settings.engine)
    if "local" not in names and _local_model_installed():
        names.append("local")
    if "openai" not in names and settings.llm_base_url:
        names.append("openai")
    return tuple(names)
