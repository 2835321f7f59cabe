"""Key points of an article: central, non-redundant sentences under their headings. Sentences
are scored by TF-IDF closeness to their own section's centroid, then to the article's and to its
title; each section keeps its best sentence (two for a section of four or more), and a sentence
too close to one already kept is dropped. Pure."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.models import Article, Chunk
from index.keyword import tokenize_query
from index.knowledge_text import WORDS, Sentence, article_sentences, chunk_of

__all__ = ["MAX_POINTS", "KeyPoint", "key_points"]

MAX_POINTS = 30  # per article
_MIN_WORDS, _MAX_WORDS = 6, 70
_REDUNDANT = 0.6  # TF-IDF cosine above which a second point repeats a kept one


@dataclass(frozen=True)
class KeyPoint:
    """A central sentence of an article; ``start``/``end`` index into the article's text."""

    text: str
    section: str
    order: int  # sentence number in the article (reading order)
    start: int
    end: int
    score: float  # centrality, higher is better
    chunk_id: str

    def embedding_text(self) -> str:
        return f"{self.section}. {self.text}" if self.section else self.text


_PRONOUN = re.compile(r"^(?:it|its|it’s|it's|they|their|them|this|these|that|those|he|she)\b", re.I)


def _is_point(s: Sentence) -> bool:
    """A sentence that can stand alone as a point: long enough, a statement, not navigation."""
    words = WORDS.findall(s.text)
    if not (_MIN_WORDS <= len(words) <= _MAX_WORDS) or s.text.endswith((":", "?")):
        return False
    if "@" in s.text or "http" in s.text.lower():
        return False
    capitalised = sum(w[0].isupper() for w in words)
    return capitalised <= 0.6 * len(words)


def _tfidf(token_lists: list[list[str]]) -> list[dict[str, float]]:
    df: Counter[str] = Counter()
    for tokens in token_lists:
        df.update(set(tokens))
    n = len(token_lists)
    vectors = []
    for tokens in token_lists:
        tf = Counter(tokens)
        v = {t: (1 + math.log(c)) * math.log(1 + n / df[t]) for t, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({t: x / norm for t, x in v.items()})
    return vectors


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def _centroid(vectors: list[dict[str, float]]) -> dict[str, float]:
    total: defaultdict[str, float] = defaultdict(float)
    for v in vectors:
        for t, x in v.items():
            total[t] += x
    norm = math.sqrt(sum(x * x for x in total.values())) or 1.0
    return {t: x / norm for t, x in total.items()}


def key_points(article: Article, chunks: Sequence[Chunk], max_points: int = MAX_POINTS) -> tuple[KeyPoint, ...]:
    """The article's key points in reading order. Pure."""
    candidates = [s for s in article_sentences(article) if _is_point(s)]
    if not candidates:
        return ()
    vectors = _tfidf([tokenize_query(s.text) for s in candidates])
    title = _tfidf([tokenize_query(article.title)] + [tokenize_query(s.text) for s in candidates])[0]
    centre = _centroid(vectors)
    by_section: defaultdict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(candidates):
        by_section[s.section].append(i)
    section_centre = {sec: _centroid([vectors[i] for i in idx]) for sec, idx in by_section.items()}
    first_of_block = {s.block: s.order for s in reversed(candidates)}
    # what a section is about, more than what the whole article is about (that is its framing)
    scores = [
        _cos(v, section_centre[s.section]) + 0.3 * _cos(v, centre) + 0.2 * _cos(v, title)
        + (0.05 if first_of_block[s.block] == s.order else 0.0)
        - (0.1 if _PRONOUN.match(s.text) else 0.0)  # "It simplifies...": weaker out of context
        for s, v in zip(candidates, vectors)
    ]
    # each section's best sentence, a second one for a long section; best sections first
    picks: list[int] = []
    for idx in by_section.values():
        ranked = sorted(idx, key=lambda i: -scores[i])
        picks.append(ranked[0])
        if len(idx) >= 4:
            picks.append(ranked[1])
    chosen: list[int] = []
    for i in sorted(picks, key=lambda i: -scores[i]):
        if len(chosen) >= max_points:
            break
        if all(_cos(vectors[i], vectors[j]) < _REDUNDANT for j in chosen):
            chosen.append(i)
    return tuple(
        KeyPoint(s.text, s.section, s.order, s.start, s.end, round(scores[i], 4), chunk_of(chunks, s.start, s.end))
        for i in sorted(chosen, key=lambda i: candidates[i].order)
        for s in (candidates[i],)
    )

