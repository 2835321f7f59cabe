"""The extractive answer engine: no LLM, the articles' own sentences, each cited.

From the best retrieved passages it picks the sentences that answer the question best
(embedding similarity to the question plus word overlap, with a small bonus for the passage's
rank and for covering question words not yet covered), and writes them one after another, each
followed by ``[n]`` for its passage. When the best passage is not relevant enough
(``min_relevance``, cosine), it refuses and cites nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.citations import attach_citation
from assistant.models import Answer, Citation, Passage
from corpus.text import sentence_spans
from index.embedding import Embedder
from index.keyword import tokenize_query

__all__ = ["ExtractiveEngine", "NOT_COVERED", "Candidate", "select_sentences"]

NOT_COVERED = "The articles do not cover this question, so I cannot answer it from them."
_ARTICLE_MARKER = re.compile(r"\s?\[\s*\d{1,3}\s*\]")
_PRONOUN_START = re.compile(r"^(it|its|it’s|it's|they|their|them|this|these|that|those|both|such)\b", re.I)


@dataclass(frozen=True)
class Candidate:
    passage: int  # index into the passages list
    text: str
    score: float
    tokens: frozenset[str]
    position: int  # sentence number inside its passage


def select_sentences(candidates: Sequence[Candidate], question_tokens: frozenset[str], limit: int, max_chars: int = 600, ratio: float = 0.72) -> list[Candidate]:
    """Greedy choice: the best sentence, then others close to it that add question words. Pure."""
    if not candidates:
        return []
    ranked = sorted(candidates, key=lambda c: -c.score)
    best = ranked[0]
    chosen = [best]
    covered = set(best.tokens & question_tokens)
    length = len(best.text)
    while len(chosen) < limit:
        def gain(c: Candidate) -> float:
            new = len((c.tokens & question_tokens) - covered)
            return c.score + 0.08 * new

        rest = [c for c in ranked if c not in chosen and c.text not in {x.text for x in chosen}]
        if not rest:
            break
        nxt = max(rest, key=gain)
        if nxt.score < ratio * best.score or length + len(nxt.text) > max_chars:
            break
        chosen.append(nxt)
        covered |= nxt.tokens & question_tokens
        length += len(nxt.text)
    return chosen


class ExtractiveEngine:
    name = "extractive"

    def __init__(self, embedder: Embedder, min_relevance: float = 0.3, max_sentences: int = 3, max_passages: int = 3):
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences
        self.max_passages = max_passages

    def relevant(self, passages: Sequence[Passage]) -> bool:
        best = max((p.dense_score for p in passages if p.dense_score is not None), default=None)
        return best is not None and best >= self.min_relevance

    def answer(self, question: str, query: str, passages: Sequence[Passage]) -> Answer:
        if not passages or not self.relevant(passages):
            return Answer(question=question, text=NOT_COVERED, refused=True, reason="not_covered", passages=tuple(passages))
        top = list(passages[: self.max_passages])
        question_tokens = frozenset(tokenize_query(query))
        raw: list[tuple[int, int, str]] = []
        for pi, p in enumerate(top):
            spans = sentence_spans(p.text)
            for si, (a, b) in enumerate(spans):
                sentence = p.text[a:b]
                if len(sentence) < 25 or len(sentence.split()) < 4:
                    continue
                if _PRONOUN_START.match(sentence) and si > 0:
                    pa, _ = spans[si - 1]
                    sentence = p.text[pa:b]  # keep the sentence its pronoun points back to
                raw.append((pi, si, sentence.lstrip("- ").strip()))
        if not raw:
            return Answer(question=question, text=NOT_COVERED, refused=True, reason="not_covered", passages=tuple(passages))
        vectors = np.asarray(self.embedder.embed_documents([s for _, _, s in raw] + [query]), dtype=np.float32)
        qv = vectors[-1]
        sims = vectors[:-1] @ qv / (np.linalg.norm(vectors[:-1], axis=1) * np.linalg.norm(qv) + 1e-9)
        candidates = []
        for (pi, si, sentence), sim in zip(raw, sims):
            tokens = frozenset(tokenize_query(sentence))
            overlap = len(tokens & question_tokens) / max(1, len(question_tokens))
            score = float(sim) + 0.35 * overlap + 0.04 * (len(top) - pi)
            candidates.append(Candidate(pi, sentence, score, tokens, si))
        chosen = select_sentences(candidates, question_tokens, self.max_sentences)
        # present the chosen sentences passage by passage, in reading order
        first_seen: dict[int, int] = {}
        for c in chosen:
            first_seen.setdefault(c.passage, len(first_seen) + 1)
        chosen.sort(key=lambda c: (first_seen[c.passage], c.position))
        # an article's own "[n]" markers are data, not citations: only the engine's reach the answer
        parts = [attach_citation(_ARTICLE_MARKER.sub("", c.text), first_seen[c.passage]) for c in chosen]
        citations = tuple(
            Citation(
                n=n,
                title=top[pi].title,
                source=top[pi].source,
                text=top[pi].text,
                score=top[pi].score,
                section=top[pi].section,
                publisher=top[pi].publisher,
                date=top[pi].date,
                chunk_id=top[pi].chunk_id,
                quotes=tuple(c.text for c in chosen if c.passage == pi),
            )
            for pi, n in sorted(first_seen.items(), key=lambda kv: kv[1])
        )
        return Answer(question=question, text=" ".join(parts), citations=citations, passages=tuple(passages), engine=self.name)
