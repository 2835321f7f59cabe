"""An extractive answer's text and citations from the sentences and list items chosen for it.

Pure: the engine chooses (``ExtractiveEngine.compose``), this writes. The sentence that answers
leads; the rest follow by passage, in reading order; each sentence (or run of short ones) ends
with the ``[n]`` of its passage, numbered in order of first citation; list items become cited
bullets under the prose. An article's own "[n]" markers are data, not citations: they are taken
out, so only the engine's markers reach the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.citations import attach_citation, in_prose
from assistant.models import Answer, Citation, Passage
from assistant.sentences import ARTICLE_MARKER, Candidate, orphan, under_heading

__all__ = ["render"]


def render(question: str, top: Sequence[Passage], chosen: list[Candidate], items: list[tuple[str, Passage]], passages: Sequence[Passage],
           engine: str) -> Answer:
    """The ``Answer`` for the ``chosen`` sentences (of ``top``) and list ``items``; ``passages``: all
    that were retrieved, kept on the answer. Pure."""
    cited: dict[str, Passage] = {}  # chunk id -> passage, in order of first citation
    for p in [top[c.passage] for c in chosen] + [p for _, p in items]:
        cited.setdefault(p.chunk_id, p)
    number = {cid: n for n, cid in enumerate(cited, start=1)}
    chosen = chosen[:1] + sorted(chosen[1:], key=lambda c: (number[top[c.passage].chunk_id], c.position))
    runs: list[list[Candidate]] = []  # a short sentence ("RUBY: So?") shares the citation of the one after it
    for c in chosen:
        last = runs[-1][-1] if runs else None
        if last is not None and last.passage == c.passage and c.position == last.position + 1 and len(last.text) < 40:
            runs[-1].append(c)
        else:
            runs.append([c])
    parts = [in_prose(attach_citation(" ".join(ARTICLE_MARKER.sub("", c.text) for c in run), number[top[run[0].passage].chunk_id]))
             for run in runs]
    parts = [under_heading(part, top[run[0].passage]) if orphan(run[0], chosen) else part for part, run in zip(parts, runs)]
    text = " ".join(parts)
    if items:
        bullets = "\n".join(f"- {attach_citation(ARTICLE_MARKER.sub('', t), number[p.chunk_id])}" for t, p in items)
        text = f"{text}\n\n{bullets}" if text else bullets
    quotes: dict[str, list[str]] = {}
    for c in chosen:
        quotes.setdefault(top[c.passage].chunk_id, []).append(c.text)
    for t, p in items:
        quotes.setdefault(p.chunk_id, []).append(t.removeprefix(f"{p.section.strip()}: "))
    citations = tuple(Citation.of(number[cid], p, tuple(quotes.get(cid, ()))) for cid, p in cited.items())
    return Answer(question=question, text=text, citations=citations, passages=tuple(passages), engine=engine)
