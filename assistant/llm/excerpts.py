"""What the model reads: the evidence sentences of the best passages, with their neighbours.

Instead of whole passages (three 800-character chunks: ~750 prompt tokens, most of the time to
the first token on a CPU), the prompt carries *excerpts*: the passage sentences the extractive
engine scored highest for the question, each with the sentence before and after it, grouped per
passage in reading order (runs that are not adjacent joined by " … "). Excerpts are numbered
like passages, so a citation ``[n]`` still names one passage, and verification checks against
the whole passage.

List questions (``assistant.shapes``: "What are all …", "Which <plural> …", "What are the …s")
get a larger budget and wider windows: their items tend to be short lines next to one another.

All functions here are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.sentences import Candidate
from assistant.models import Passage
from assistant.shapes import classify
from corpus.text import sentence_spans

__all__ = ["Excerpt", "EvidenceBudget", "LIST_BUDGET", "is_list_question", "select_excerpts", "whole_passages"]

def is_list_question(question: str) -> bool:
    """Does the question ask for several items, so a bulleted answer fits? (The question-shape
    classifier's ``list``: "What are the …s", "Which <plural> …", "What are all …", "Name the …".)"""
    return classify(question).name == "list"


@dataclass(frozen=True)
class Excerpt:
    """The part of ``passage`` the model sees (``text``), and the evidence sentences in it."""

    passage: Passage
    text: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceBudget:
    """How much evidence goes into the prompt.

    ``chars``: total excerpt characters (about 4 characters a token); ``neighbours``: sentences
    kept on each side of an evidence sentence; ``ratio``: a sentence is evidence only if its
    score reaches ``ratio`` × the best sentence's; ``passages``: at most this many excerpts.

    Every prompt token is evaluated before the first answer token (the system prompt is a cached
    prefix), so ``chars`` is the time to first token. Share of STICI-train answers whose reference
    is at least half in excerpts + the extractive answer (no LLM): three whole passages 28/40;
    600-800 chars 22-24/40; 1,200 chars 25-26/40; list questions from up to 5 passages 8/16 at
    1,200, 9/16 at 1,600. Dev set: 22/22 from 800 chars on. End to end (local engine, STICI
    train scoped): 700/1,000 chars 21/40 correct, TTFT p50 3.45 s; 800/1,200 chars 23/40, 4.1-4.2 s.
    Later (the extractive sentences quoted after the model's, step 4 of the engine): 700/1,000
    chars STICI 24/40, dev 24/24, first token p50 3.27 s, first text shown 4.40 s; **550/850
    (the default)** STICI 25/40, dev 23/24, first token p50 2.77 s, first text shown 3.54 s.
    """

    chars: int = 550
    neighbours: int = 1
    ratio: float = 0.5
    passages: int = 3


# list questions: items are short lines spread over more passages
LIST_BUDGET = EvidenceBudget(chars=850, passages=5)


def select_excerpts(passages: Sequence[Passage], candidates: Sequence[Candidate], budget: EvidenceBudget) -> list[Excerpt]:
    """Excerpts of ``passages`` around the best ``candidates`` (``Candidate.passage`` indexes
    ``passages``), at most ``budget.passages`` of them, in the passages' (retrieval) order."""
    if not candidates:
        return []
    ranked = sorted(candidates, key=lambda c: -c.score)
    floor = budget.ratio * ranked[0].score if ranked[0].score > 0 else float("-inf")
    spans = {pi: sentence_spans(p.text) for pi, p in enumerate(passages)}
    picked: dict[int, set[int]] = {}  # passage index -> sentence indexes
    evidence: dict[int, list[str]] = {}
    used = 0
    for c in ranked:
        if c.score < floor and picked:
            break
        if c.passage not in picked and len(picked) >= budget.passages:
            continue
        sents = spans.get(c.passage, [])
        if not sents:
            continue
        centre = min(c.position, len(sents) - 1)
        window = set(range(max(0, centre - budget.neighbours), min(len(sents), centre + budget.neighbours + 1)))
        have = picked.get(c.passage, set())
        extra = _chars(sents, window - have)
        if used + extra > budget.chars:
            window = {centre}  # the sentence alone
            extra = _chars(sents, window - have)
            if used + extra > budget.chars and picked:
                continue
        picked.setdefault(c.passage, set()).update(window)
        evidence.setdefault(c.passage, []).append(c.text)
        used += extra
    out = []
    for pi in sorted(picked):
        p = passages[pi]
        out.append(Excerpt(p, _runs_text(p.text, spans[pi], sorted(picked[pi])), tuple(evidence[pi])))
    return out


def whole_passages(passages: Sequence[Passage]) -> list[Excerpt]:
    """Each passage whole, as the model read them before excerpts (benchmarks, comparisons)."""
    return [Excerpt(p, p.text) for p in passages]


def _chars(spans: Sequence[tuple[int, int]], indexes: set[int]) -> int:
    return sum(spans[i][1] - spans[i][0] + 1 for i in indexes)


def _runs_text(text: str, spans: Sequence[tuple[int, int]], indexes: list[int]) -> str:
    """The chosen sentences in reading order: adjacent ones as written (line breaks kept),
    runs that are not adjacent joined by " … "."""
    runs: list[list[int]] = []
    for i in indexes:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return " … ".join(text[spans[run[0]][0] : spans[run[-1]][1]] for run in runs)
