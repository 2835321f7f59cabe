"""Value types of the assistant stage, shared by the Python API, the CLI and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Passage", "Citation", "SentenceCheck", "Generation", "Answer", "TextDelta", "StreamEvent"]


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
    url: str | None = None  # the article's web address, when it came from the web


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
    url: str | None = None  # the article's web address, when it came from the web

    @classmethod
    def of(cls, n: int, passage: Passage, quotes: tuple[str, ...] = ()) -> Citation:
        """Passage ``passage`` cited as ``[n]``; ``quotes`` are kept only if the passage holds them."""
        return cls(
            n=n,
            title=passage.title,
            source=passage.source,
            text=passage.text,
            score=passage.score,
            section=passage.section,
            publisher=passage.publisher,
            date=passage.date,
            chunk_id=passage.chunk_id,
            quotes=tuple(q for q in quotes if q in passage.text),
            url=passage.url,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "title": self.title, "source": self.source, "text": self.text, "score": round(self.score, 4), "url": self.url}


@dataclass(frozen=True)
class SentenceCheck:
    """How one generated sentence fared against the passages it cites (LLM engines only).

    ``status``: ``supported`` (a cited passage supports it), ``recited`` (supported by another
    passage, whose number replaced the model's), ``unsupported`` (no passage supports it: removed
    from the answer), ``note`` (says the passages do not cover something: kept, uncited),
    ``quoted`` (a passage sentence added verbatim because the answer did not cover it).
    ``cited`` are the model's valid passage numbers, ``passage`` the supporting one (prompt
    numbering, 1-based), ``score`` its support score (0..1).
    """

    text: str
    status: str
    cited: tuple[int, ...] = ()
    passage: int | None = None
    score: float = 0.0

    @property
    def supported(self) -> bool:
        return self.status in ("supported", "recited", "quoted")


@dataclass(frozen=True)
class Generation:
    """Timing of one LLM generation: seconds to the first token, stream chunks (~tokens), total."""

    model: str
    first_token_s: float
    tokens: int
    seconds: float

    @property
    def tokens_per_s(self) -> float:
        decode = self.seconds - self.first_token_s
        return (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else 0.0


@dataclass(frozen=True)
class Answer:
    """An answer whose every ``[n]`` points at ``citations[n-1]``.

    ``refused`` is True when the articles do not cover the question (or it cannot be asked);
    then ``citations`` is empty and ``reason`` says why: ``not_covered``, ``empty_question``,
    ``question_too_long``, ``not_in_passages`` (an LLM engine read the closest passages and
    found no answer in them), ``no_number`` / ``no_name`` / ``no_date`` (a quantity, a name or a
    date was asked for and the passages on the question give none). ``related`` are passages worth reading that the
    answer does not rely on (the closest ones, for those three); their ``n`` is not an answer
    marker.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    reason: str | None = None
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    engine: str = "extractive"
    notices: tuple[str, ...] = ()
    checks: tuple[SentenceCheck, ...] = ()  # LLM engines: every generated sentence, verified
    generation: Generation | None = None
    shape: str = "factoid"  # the question shape answered: factoid, list, comparison, collection, summary
    related: tuple[Citation, ...] = ()

    @property
    def supported_share(self) -> float | None:
        """Share of checked generated sentences a passage supports; None when nothing was checked."""
        counted = [c for c in self.checks if c.status != "note"]
        return sum(c.supported for c in counted) / len(counted) if counted else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``assistant ask --json`` and of the UI's ``/ask`` endpoint."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "reason": self.reason,
            "engine": self.engine,
            "citations": [c.to_dict() for c in self.citations],
            "related": [c.to_dict() for c in self.related],
            "notices": list(self.notices),
            "shape": self.shape,
        }


@dataclass(frozen=True)
class TextDelta:
    """A piece of an answer's text as it streams; the pieces of one answer, joined in order,
    give ``Answer.text``."""

    text: str


StreamEvent = TextDelta | Answer  # what ``Assistant.ask_stream`` yields: deltas, then one Answer
