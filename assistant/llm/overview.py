"""Overviews of whole-collection answers: a few generated sentences on top of the structured one.

Collection-wide, comparison, summary (and pros-and-cons) questions are answered by
``CollectionAnswerer`` with grouped cited bullets, a table or key points. An LLM engine writes a
short overview (1-3 sentences, the point asked first) above that answer, from the answer's own
cited sentences:

1. ``answer_points``: the structured text's cited sentences with their group label (a heading
   and how many articles make the point, a comparison side, ``Pros``/``Cons``) and numbers.
2. ``select_points``: the first sentence of each group, then the second of each, ... within
   ``max_chars`` (~250 tokens: llama.cpp evaluates ~70 prompt tokens/s on 2 cores).
3. The model reads them fenced as passages numbered with the answer's citation numbers
   (``prompts.overview_messages``); each finished sentence is verified against the cited
   sentences (``verify.Verifier`` over the answer's citations, the group labels as sections; a
   sentence citing several points is also checked against them together). Unsupported sentences
   are removed; at most ``max_sentences`` are kept.
4. The overview, a blank line, then the structured text unchanged: every ``[n]`` keeps pointing
   at ``citations[n-1]``. Nothing verified, or the model failed before anything was shown: the
   structured answer alone, with a notice (as the factoid path falls back to the extractive one).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.citations import CITATION, attach_citation
from assistant.engines import text_pieces
from assistant.llm.backends import ChatModel
from assistant.llm.prompts import overview_messages
from assistant.llm.verify import Verified, Verifier, split_answer_sentences
from assistant.models import Answer, Generation, Passage, SentenceCheck, StreamEvent, TextDelta
from corpus.errors import EngineError
from index.embedding import Embedder

__all__ = ["Point", "answer_points", "select_points", "overview_kind", "Overviews"]

# "- Label — 3 of 5 articles [1][2]: sentence [1]. sentence [2]" (the label ends at its markers)
# or "- Heading: sentence [4]." (at the first ": ")
_MARKED_LABEL = re.compile(r"^(?P<label>[^\[\]]{1,160}?)\s*(?:\[\d{1,3}\])+\s*:\s+(?P<body>\S.*)$")
_LABEL = re.compile(r"^(?P<label>[^:\[\]]{1,120}?)\s*:\s+(?P<body>\S.*)$")
_CITED = re.compile(r"(?P<text>[^\[\]]+?)\s*(?P<marks>(?:\[\d{1,3}\]\s*)+)\.?(?=\s|$)")
_BULLET = re.compile(r"^\s*(?:[-*•]\s+)?")
_EMPHASIS = re.compile(r"\*\*|__|`")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_RULE = re.compile(r"^\|?[\s:|-]+\|?$")


@dataclass(frozen=True)
class Point:
    """A cited sentence of a structured answer: its numbers, its group's label, its text."""

    numbers: tuple[int, ...]
    label: str
    text: str


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(int(n) for n in CITATION.findall(text)))


def _sentences(label: str, body: str) -> list[Point]:
    out = []
    for s in _CITED.finditer(body):
        sentence = s.group("text").strip(" .;:")
        if len(sentence.split()) >= 2:
            out.append(Point(_numbers(s.group("marks")), label, sentence + "."))
    return out


def answer_points(text: str) -> list[Point]:
    """The cited sentences of a structured answer, in order, each with its label: a group's
    heading (with how many articles make the point), a key point's heading, a table column's
    header (a comparison side, ``Pros``/``Cons``). A line that is only a label with markers
    ("Node.js — 5 of 5 articles [1][2]") is a point whose text is the label. Pure."""
    out: list[Point] = []
    header: list[str] = []
    for raw in text.split("\n"):
        line = _EMPHASIS.sub("", raw).strip()
        if line.startswith("|"):  # a Markdown table: the header row names the columns
            if _RULE.match(line):
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not CITATION.search(line):
                header = cells
                continue
            for i, cell in enumerate(cells):
                out.extend(_sentences(header[i] if i < len(header) else "", cell))
            continue
        line = _BULLET.sub("", line, count=1)
        if not CITATION.search(line):
            continue
        m = _MARKED_LABEL.match(line) or _LABEL.match(line)
        label, body = (m.group("label").strip(" —-"), m.group("body")) if m else ("", line)
        found = _sentences(label, body)
        if not found and not m:  # "Node.js — 5 of 5 articles [1][2]"
            found = [Point(_numbers(line), "", CITATION.sub("", line).strip())]
        out.extend(found)
    return out


def select_points(points: Sequence[Point], max_chars: int = 900) -> list[tuple[int, str, str]]:
    """``(n, label, text)`` for the prompt: the first point of every label, then the second of
    every label, ... until ``max_chars`` of labels and text; points citing the same first number
    are one passage (their sentences joined, in the answer's order). Pure."""
    by_label: dict[str, list[Point]] = {}
    for p in points:
        by_label.setdefault(p.label, []).append(p)
    picked: list[Point] = []
    size = 0
    for depth in range(max((len(ps) for ps in by_label.values()), default=0)):
        for ps in by_label.values():
            if depth >= len(ps):
                continue
            cost = len(ps[depth].text) + 30 + len(ps[depth].label) * (ps[depth].label not in {p.label for p in picked})
            if size + cost > max_chars and picked:
                break
            picked.append(ps[depth])
            size += cost
        else:
            continue
        break
    chosen: dict[int, tuple[str, list[str]]] = {}
    for p in sorted(picked, key=points.index):
        label, texts = chosen.setdefault(p.numbers[0], (p.label, []))
        texts.append(p.text)
    return [(n, label, " ".join(texts)) for n, (label, texts) in chosen.items()]


def overview_kind(answer: Answer, points: Sequence[Point]) -> str:
    """What the overview leads with: ``comparison``, ``summary``, ``pros_cons`` or ``collection``."""
    if answer.shape == "collection" and {p.label for p in points} == {"Pros", "Cons"}:
        return "pros_cons"
    return answer.shape if answer.shape in ("comparison", "summary") else "collection"


def _evidence(answer: Answer, points: Sequence[Point]) -> list[Passage]:
    """One passage per citation of ``answer`` (numbered as it is): the sentences the answer
    quotes from it, the labels it appears under as its section."""
    labels: dict[int, list[str]] = {}
    for p in points:
        for n in p.numbers:
            if p.label and p.label not in labels.setdefault(n, []):
                labels[n].append(p.label)
    out = []
    for c in answer.citations:
        text = " ".join(c.quotes) if c.quotes else c.text
        section = "; ".join([*labels.get(c.n, []), c.section] if c.section else labels.get(c.n, []))
        out.append(Passage(c.chunk_id, text, c.title, c.source, section, c.score, publisher=c.publisher, date=c.date, url=c.url))
    return out


class Overviews:
    """Writes verified overviews with ``chat`` (the LLM engine's model) for structured answers."""

    def __init__(self, chat: ChatModel, embedder: Embedder, name: str, threshold: float = 0.55,
                 max_tokens: int = 120, max_sentences: int = 3, max_chars: int = 900):
        self.chat = chat
        self.embedder = embedder
        self.name = name
        self.threshold = threshold
        self.max_tokens = max_tokens
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        # an uncited sentence drawing on several points: the (at most max_joint) points that each
        # support part of it (score >= min_part) are checked together
        self.max_joint = 3
        self.min_part = 0.3

    def messages(self, question: str, answer: Answer) -> list[dict[str, str]]:
        points = answer_points(answer.text)
        return overview_messages(question, select_points(points, self.max_chars), overview_kind(answer, points))

    def _check(self, verifier: Verifier, evidence: Sequence[Passage], sentence: str) -> Verified:
        """``Verifier.check``; a sentence no single passage supports that draws on several points
        (it cites them, or cites none and they each support part of it) is checked against those
        points' sentences together, and cites them all when they support it."""
        verified = verifier.check(sentence)
        cited = verified.check.cited
        if verified.check.status in ("supported", "note") or len(cited) == 1:
            return verified
        if not cited:  # (a single passage may support it: the points together, if more so, are cited)
            scores = verifier.support(verified.text)
            ranked = sorted(range(1, len(scores) + 1), key=lambda n: -scores[n - 1][0])
            cited = tuple(sorted(n for n in ranked[: self.max_joint] if scores[n - 1][0] >= self.min_part))
        if len(cited) < 2:
            return verified
        parts = [evidence[n - 1] for n in cited]
        joint = Passage("joint", " ".join(p.text for p in parts), " ".join(p.title for p in parts), "", "; ".join(p.section for p in parts), 0.0)
        together = Verifier([joint], self.embedder, threshold=self.threshold).check(verified.text)
        if not together.check.supported or together.check.score <= verified.check.score:
            return verified
        check = SentenceCheck(verified.text, "supported" if verified.check.cited else "recited", cited, cited[0], together.check.score)
        return Verified(check, verified.text, cited)

    def stream(self, question: str, answer: Answer) -> Iterator[StreamEvent]:
        """The overview's verified sentences (``TextDelta``s), the structured text a line at a
        time, then the ``Answer`` (its ``checks`` the overview's)."""
        points = answer_points(answer.text)
        chosen = select_points(points, self.max_chars)
        if not chosen:
            yield from _structured(answer, "", answer)
            return
        evidence = _evidence(answer, points)
        verifier = Verifier(evidence, self.embedder, threshold=self.threshold, question=question)
        messages = overview_messages(question, chosen, overview_kind(answer, points))
        shown: list[str] = []
        checks: list[SentenceCheck] = []
        notices: list[str] = []
        started = time.perf_counter()
        first: float | None = None
        tokens, checked, buffer = 0, 0, ""

        def add(sentence: str) -> Iterator[StreamEvent]:
            verified = self._check(verifier, evidence, sentence)
            if any(verified.text == c.text for c in checks):  # said already: recorded once
                return
            checks.append(verified.check)
            # notes ("the passages do not say ...") and unsupported sentences are not shown
            if not verified.check.supported or len(shown) >= self.max_sentences:
                return
            text = verified.text
            for n in verified.cite:
                text = attach_citation(text, n)
            piece = (" " if shown else "") + text
            shown.append(piece)
            yield TextDelta(piece)

        stream = self.chat.stream(messages, max_tokens=self.max_tokens)
        try:
            for piece in stream:
                first = time.perf_counter() - started if first is None else first
                tokens += 1
                buffer += piece
                sentences = _overview_sentences(buffer)
                while checked < len(sentences) - 1:
                    yield from add(sentences[checked])
                    checked += 1
                if len(shown) >= self.max_sentences or tokens >= self.max_tokens:
                    break
            # the rest, unless the overview is full (what follows was cut off, not finished)
            rest = _overview_sentences(buffer)[checked:] if len(shown) < self.max_sentences else []
            if rest and tokens >= self.max_tokens and not re.search(r"[.!?\]]\s*$", rest[-1]):
                rest.pop()  # cut off by the token budget mid-sentence
            for sentence in rest:
                yield from add(sentence)
        except EngineError as exc:
            if not shown:
                notice = f"The {self.name} engine could not write an overview ({exc}); this is the structured answer alone."
                yield from _structured(replace(answer, notices=answer.notices + (notice,), checks=tuple(checks)), "", answer)
                return
            notices.append(f"The {self.name} engine stopped early ({exc}); the overview may be incomplete.")
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        generation = Generation(self.name, first if first is not None else 0.0, tokens, time.perf_counter() - started)
        if not shown:
            notice = f"The {self.name} engine's overview could not be verified against the answer's sentences; this is the structured answer alone."
            yield from _structured(replace(answer, notices=answer.notices + (notice,), checks=tuple(checks), generation=generation), "", answer)
            return
        head = "".join(shown)
        done = replace(answer, text=f"{head}\n\n{answer.text}", engine=self.name, notices=answer.notices + tuple(notices),
                       checks=tuple(checks), generation=generation)
        yield from _structured(done, "\n\n", answer)


def _overview_sentences(text: str) -> list[str]:
    """Sentences of the generated overview: prose, so list lines ("- Pros: ...") are read as
    sentences of one paragraph (a bullet marker dropped, a lone label line "Pros:" skipped)."""
    lines = (_LIST_MARKER.sub("", line).strip() for line in text.split("\n"))
    return split_answer_sentences(" ".join(line for line in lines if line and not line.endswith(":")))


def _structured(final: Answer, lead: str, structured: Answer) -> Iterator[StreamEvent]:
    """``lead`` then the structured text a line at a time (``TextDelta``s), then ``final``."""
    for i, piece in enumerate(text_pieces(structured.text, by_line=True)):
        yield TextDelta(lead + piece if i == 0 else piece)
    yield final
