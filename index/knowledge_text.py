"""The article text that knowledge is made from: its sentences under their headings, the chunk
a span falls in, and word forms. Pure; shared by key points (``index/key_points.py``) and named
things (``index/named_things.py``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.chunking import blocks
from corpus.models import Article, Chunk
from corpus.text import sentence_spans

__all__ = ["WORDS", "Sentence", "article_sentences", "chunk_of", "headings", "singular"]

WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article: its span, heading, paragraph (``block``) and number."""

    text: str
    section: str
    start: int
    end: int
    block: int
    order: int


def article_sentences(article: Article) -> list[Sentence]:
    """Every sentence of ``article``, list markers stripped, in reading order."""
    out: list[Sentence] = []
    for bi, block in enumerate(blocks(article.text)):
        for a, b in sentence_spans(article.text, block.start, block.end):
            text = article.text[a:b].lstrip("-*•· \t").strip()
            a = b - len(text)
            out.append(Sentence(text, block.section, a, b, bi, len(out)))
    return out


def chunk_of(chunks: Sequence[Chunk], start: int, end: int) -> str:
    """The id of the chunk that holds the span (the one overlapping it most)."""
    best, overlap = "", 0
    for c in chunks:
        o = min(end, c.end) - max(start, c.start)
        if o > overlap:
            best, overlap = c.id, o
            if c.start <= start and end <= c.end:
                break
    return best


def headings(article: Article) -> tuple[str, ...]:
    """The article's section headings in order."""
    return tuple(dict.fromkeys(b.section for b in blocks(article.text) if b.section))


def singular(word: str) -> str:
    """A plural's singular, roughly ("libraries" -> "library", "databases" -> "database")."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "xes", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w

