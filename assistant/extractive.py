"""The extractive answer engine: no LLM, the articles' own sentences, each cited.

From the best retrieved passages it picks the sentences that answer the question best
(embedding similarity to the question plus word overlap, with a small bonus for the passage's
rank and for covering question words not yet covered), and writes them one after another, each
followed by ``[n]`` for its passage. When the best passage is not relevant enough
(``min_relevance``, cosine), it refuses and cites nothing.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.citations import attach_citation
from assistant.models import Answer, Citation, Passage
from corpus.text import sentence_spans
from index.embedding import Embedder
from index.keyword import tokenize_query

__all__ = ["ExtractiveEngine", "NOT_COVERED", "Candidate", "select_sentences", "unknown_names"]

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
    start: int = 0  # span inside the passage text
    end: int = 0


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage == b.passage and a.start < b.end and b.start < a.end


def select_sentences(
    candidates: Sequence[Candidate],
    question_tokens: frozenset[str],
    limit: int,
    max_chars: int = 700,
    ratio: float = 0.72,
    new_passage_penalty: float = 0.05,
) -> list[Candidate]:
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
            spread = 0.0 if any(c.passage == x.passage for x in chosen) else new_passage_penalty
            return c.score + 0.08 * new - spread

        rest = [c for c in ranked if not any(_overlaps(c, x) or c.text in x.text or x.text in c.text for x in chosen)]
        if not rest:
            break
        nxt = max(rest, key=gain)
        if gain(nxt) < ratio * best.score or length + len(nxt.text) > max_chars:
            break
        chosen.append(nxt)
        covered |= nxt.tokens & question_tokens
        length += len(nxt.text)
    return chosen


def unknown_names(question: str, known: Callable[[str], bool]) -> list[str]:
    """Names in the question (capitalised words past the first, acronyms) that ``known``
    does not recognise. Pure given ``known``."""
    words = re.findall(r"[A-Za-z][\w+#.]*", question)
    out = []
    for i, word in enumerate(words):
        word = re.sub(r"(['’]s|[.-])$", "", word)
        if i == 0 or not word or not word[0].isupper():
            continue
        if not known(word):
            out.append(word)
    return out


class ExtractiveEngine:
    """Picks, cites and strings together the sentences that answer the question best.

    Relevance gate: the best of (top passage cosine, best sentence cosine) must reach
    ``min_relevance``; when the question names something the articles never mention
    (say, "Mojolicious"), it must reach ``min_relevance_unknown`` instead.
    """

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        min_relevance: float = 0.39,
        max_sentences: int = 4,
        max_passages: int = 5,
        min_relevance_unknown: float = 0.6,
        known_term: Callable[[str], bool] | None = None,
    ):
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.min_relevance_unknown = min_relevance_unknown
        self.max_sentences = max_sentences
        self.max_passages = max_passages
        self.known_term = known_term
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    _CACHE_SIZE = 20_000

    def _sentence_vectors(self, sentences: list[str]) -> np.ndarray:
        """Embeddings of passage sentences, remembered (LRU): popular passages come back."""
        with self._cache_lock:
            missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        if missing:
            fresh = np.asarray(self.embedder.embed_documents(missing), dtype=np.float32)
            with self._cache_lock:
                for text, vector in zip(missing, fresh):
                    self._cache[text] = vector
                while len(self._cache) > self._CACHE_SIZE:
                    self._cache.popitem(last=False)
        with self._cache_lock:
            out = []
            for s in sentences:
                vector = self._cache.get(s)
                if vector is None:  # evicted by another thread meanwhile
                    vector = np.asarray(self.embedder.embed_documents([s])[0], dtype=np.float32)
                else:
                    self._cache.move_to_end(s)
                out.append(vector)
        return np.vstack(out)

    def similarities(self, query: str, sentences: list[str]) -> np.ndarray:
        """Cosine of each sentence to ``query`` (sentence vectors from the LRU cache)."""
        sentence_vectors = self._sentence_vectors(sentences)
        qv = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        return sentence_vectors @ qv / (np.linalg.norm(sentence_vectors, axis=1) * np.linalg.norm(qv) + 1e-9)

    def _refuse(self, question: str, passages: Sequence[Passage]) -> Answer:
        return Answer(question=question, text=NOT_COVERED, refused=True, reason="not_covered", passages=tuple(passages), engine=self.name)

    def candidates(self, query: str, passages: Sequence[Passage]) -> tuple[list[Candidate], float]:
        """Scored sentences of the passages, and the best sentence cosine."""
        question_tokens = frozenset(tokenize_query(query))
        raw: list[tuple[int, int, int, int, str]] = []
        for pi, p in enumerate(passages):
            spans = sentence_spans(p.text)
            for si, (a, b) in enumerate(spans):
                sentence = p.text[a:b]
                if len(sentence) < 25 or len(sentence.split()) < 4:
                    continue
                if _PRONOUN_START.match(sentence) and si > 0:
                    a = spans[si - 1][0]  # keep the sentence its pronoun points back to
                raw.append((pi, si, a, b, p.text[a:b].lstrip("- ").strip()))
        if not raw:
            return [], 0.0
        sims = self.similarities(query, [r[4] for r in raw])
        out = []
        for (pi, si, a, b, sentence), sim in zip(raw, sims):
            tokens = frozenset(tokenize_query(sentence))
            overlap = len(tokens & question_tokens) / max(1, len(question_tokens))
            score = float(sim) + 0.35 * overlap + 0.03 * (len(passages) - pi)
            out.append(Candidate(pi, sentence, score, tokens, si, a, b))
        return out, float(sims.max())

    def answer(self, question: str, query: str, passages: Sequence[Passage]) -> Answer:
        top = list(passages[: self.max_passages])
        if not top:
            return self._refuse(question, passages)
        candidates, best_sentence = self.candidates(query, top)
        best_passage = max((p.dense_score for p in top if p.dense_score is not None), default=0.0)
        relevance = max(best_sentence, best_passage)
        threshold = self.min_relevance
        if self.known_term is not None and unknown_names(question, self.known_term):
            threshold = max(threshold, self.min_relevance_unknown)
        if not candidates or relevance < threshold:
            return self._refuse(question, passages)
        chosen = select_sentences(candidates, frozenset(tokenize_query(query)), self.max_sentences)
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
