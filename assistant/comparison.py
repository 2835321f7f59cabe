"""Comparison answers ("compare X and Y"): passages retrieved for each side separately; each
side's sentences that name it, side by side in a Markdown table, rows paired by similarity,
every cell cited."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from assistant.citations import attach_citation
from assistant.collection_reader import CollectionParams, KnowledgeReader, finish, refuse
from assistant.collection_text import MARKER, mention_pattern, sentences
from assistant.grouping import table
from assistant.models import Answer, Passage
from assistant.shapes import Shape

__all__ = ["comparison", "context_words"]

Candidate = tuple[float, Passage, str, np.ndarray]  # (score, passage, sentence, unit vector)


def context_words(question: str, sides: Sequence[str]) -> str:
    """The words of a comparison that are neither a side nor comparison wording ("for backends"). Pure."""
    rest = question
    for side in sides:
        rest = re.sub(re.escape(side), " ", rest, flags=re.I)
    rest = re.sub(r"\b(?:compare|comparison|contrast|versus|vs\.?|difference|differences|between|differ|how|does|do|is|are|the|what|and|with|to|or|which|better|should|i|use|from)\b", " ", rest, flags=re.I)
    return " ".join(re.sub(r"[?,.!]", " ", rest).split())


def _side_candidates(reader: KnowledgeReader, side: str, other: str, context: str) -> list[Candidate]:
    query = f"{side} {context}".strip()
    passages = reader.retriever.retrieve(query, k=8)
    pattern = mention_pattern(side)
    other_pattern = mention_pattern(other)
    raw: list[tuple[Passage, str]] = []
    for p in passages:
        about_side = bool(pattern.search(p.section))
        for sentence in sentences(p.text):
            if pattern.search(sentence) or (about_side and not other_pattern.search(sentence)):
                raw.append((p, sentence))
    merged = {s for _, s in raw}
    raw = [(p, s) for p, s in raw if not any(o != s and o.startswith(s + " ") for o in merged)]  # keep "X ... It ..." only
    if not raw:
        return []
    qv = reader.query_vector(query)
    out = []
    for (p, s), v in zip(raw, reader.embed([s for _, s in raw])):
        v = v / (np.linalg.norm(v) or 1.0)
        score = float(v @ qv) + (0.1 if pattern.search(s) else 0.0) - (0.15 if other_pattern.search(s) else 0.0)
        out.append((score, p, s, v))
    return sorted(out, key=lambda x: -x[0])


def _pick(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """Up to ``limit`` of the best candidates, two per article at most, no near-repeats."""
    chosen: list[Candidate] = []
    per_source: dict[str, int] = {}
    for c in candidates:
        if len(chosen) >= limit:
            break
        if per_source.get(c[1].source, 0) >= 2 or any(float(c[3] @ x[3]) > 0.85 for x in chosen):
            continue
        chosen.append(c)
        per_source[c[1].source] = per_source.get(c[1].source, 0) + 1
    return chosen


def comparison(reader: KnowledgeReader, params: CollectionParams, question: str, shape: Shape) -> Answer:
    a, b = shape.sides[0], shape.sides[1]
    context = context_words(question, shape.sides)
    left = _pick(_side_candidates(reader, a, b, context), params.side_sentences)
    right = _pick(_side_candidates(reader, b, a, context), params.side_sentences)
    if not left and not right:
        return refuse(question, shape)
    # pair rows: the most similar left/right sentences side by side
    pairs: list[tuple[int | None, int | None]] = []
    free_r = list(range(len(right)))
    for i in range(len(left)):
        if free_r:
            j = max(free_r, key=lambda j: float(left[i][3] @ right[j][3]))
            free_r.remove(j)
            pairs.append((i, j))
        else:
            pairs.append((i, None))
    pairs += [(None, j) for j in free_r]
    citer = reader.citer()

    def cell(item: Candidate | None) -> str:
        if item is None:
            return "—"
        _, p, s, _ = item
        n = citer.cite(p.chunk_id, p.source, p.title, p.section, s, p.score)
        return attach_citation(MARKER.sub("", s), n)

    rows = [[cell(left[i] if i is not None else None), cell(right[j] if j is not None else None)] for i, j in pairs]
    notes = [f"The articles say nothing specific about {side}." for side, got in ((a, left), (b, right)) if not got]
    text = f"{a} and {b}, side by side:\n\n" + table([a, b], rows)
    if notes:
        text += "\n\n" + " ".join(notes)
    return finish(question, shape, text, citer)
