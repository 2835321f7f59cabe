"""Structure-aware chunking: headings, then paragraphs, then sentences. Pure functions.

An article's text is light Markdown: ``#`` heading lines and paragraphs separated by blank
lines. A chunk never crosses a heading; paragraphs of one section are packed together up to
``max_chars``; a paragraph longer than that is split at sentence boundaries, and each piece
after the first starts with the previous piece's last sentence (overlap) when that sentence is
at most ``overlap_chars`` long. Every chunk's text is exactly ``article.text[start:end]``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.models import Article, Chunk, chunk_id
from corpus.text import sentence_spans

__all__ = ["SUBSECTION", "Block", "blocks", "chunk_article", "chunk_articles", "markdown_headings"]

SUBSECTION = " › "  # between a repeated heading and the heading it sits under

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")


@dataclass(frozen=True)
class Block:
    """A paragraph of an article: its span and the heading it sits under."""

    section: str
    start: int
    end: int
    heading: int = 0  # which heading of the article it sits under (1, 2, ...; 0: none yet)


def markdown_headings(lines: Sequence[str]) -> list[re.Match[str] | None]:
    """Each line's Markdown heading (its stripped text matched: level, title), None for other
    lines and for every line of a ``` / ~~~ code block, where "# install" is a comment."""
    out: list[re.Match[str] | None] = []
    fenced = False
    for line in lines:
        stripped = line.strip()
        if _FENCE.match(stripped):
            fenced = not fenced
        out.append(None if fenced else _HEADING.match(stripped))
    return out


def blocks(text: str) -> list[Block]:
    """Split Markdown-ish text into paragraph blocks with their section heading. A heading the
    article repeats ("Trivia" under each enemy, "Gleam" and "Python" under each topic of a
    cheat sheet, "Bug fixes" under each version) cannot name its section alone: it is named
    with the last heading before it that the article does not repeat ("Variables › Gleam")."""
    lines = text.splitlines(keepends=True)
    headings = markdown_headings(lines)
    counts = Counter(m.group(2).strip() for m in headings if m)
    out: list[Block] = []
    section = ""
    parent = ""  # the last heading the article does not repeat
    ordinal = 0
    para_start: int | None = None
    para_end = 0
    pos = 0
    for line, heading in zip(lines, headings):
        line_start, pos = pos, pos + len(line)
        stripped = line.strip()
        if not stripped or heading:
            if para_start is not None:
                out.append(Block(section, para_start, para_end, ordinal))
                para_start = None
            if heading:
                ordinal += 1
                section = heading.group(2).strip()
                if counts[section] > 1:
                    section = f"{parent}{SUBSECTION}{section}" if parent else section
                else:
                    parent = section
            continue
        if para_start is None:
            para_start = line_start + (len(line) - len(line.lstrip()))
        para_end = line_start + len(line.rstrip())
    if para_start is not None:
        out.append(Block(section, para_start, para_end, ordinal))
    return out


def _pieces(text: str, block: Block, max_chars: int, overlap_chars: int) -> list[tuple[int, int]]:
    """Spans covering one block, each at most ``max_chars`` unless one sentence is longer."""
    if block.end - block.start <= max_chars:
        return [(block.start, block.end)]
    sentences = sentence_spans(text, block.start, block.end)
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        first = i
        start = sentences[i][0]
        end = sentences[i][1]
        i += 1
        while i < len(sentences) and sentences[i][1] - start <= max_chars:
            end = sentences[i][1]
            i += 1
        if end - start > max_chars and first == i - 1:
            # one very long sentence: cut at whitespace so no chunk exceeds the limit much
            pieces.extend(_hard_split(text, start, end, max_chars))
        else:
            pieces.append((start, end))
        if i < len(sentences) and i - 1 > first:
            last = sentences[i - 1]
            if last[1] - last[0] <= overlap_chars:
                i -= 1  # the next piece begins with this piece's last sentence
    return pieces


def _hard_split(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    out = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        stop = cut
        while stop > start + 1 and text[stop - 1].isspace():  # a cut right after "\x85" and the like
            stop -= 1
        out.append((start, stop))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out


def chunk_article(article: Article, max_chars: int = 800, overlap_chars: int = 200) -> list[Chunk]:
    """Cut an article into chunks; see the module docstring for the rules."""
    if max_chars < 50:
        raise ValueError(f"max_chars must be at least 50. Currently, max_chars is {max_chars}")
    text = article.text
    spans: list[tuple[str, int, int]] = []
    current: tuple[str, int, int] | None = None
    under = -1  # the heading the current chunk sits under: a chunk never crosses one
    for block in blocks(text):
        for a, b in _pieces(text, block, max_chars, overlap_chars):
            if current and block.heading == under and b - current[1] <= max_chars and a >= current[2]:
                current = (current[0], current[1], b)
                continue
            if current:
                spans.append(current)
            current, under = (block.section, a, b), block.heading
    if current:
        spans.append(current)
    article_hash = article.hash
    return [
        Chunk(
            id=chunk_id(article.source, i, text[a:b], section),
            source=article.source,
            title=article.title,
            section=section,
            text=text[a:b],
            start=a,
            end=b,
            index=i,
            publisher=article.publisher,
            date=article.date,
            article_hash=article_hash,
            url=article.url,
        )
        for i, (section, a, b) in enumerate(spans)
    ]


def chunk_articles(articles: list[Article], max_chars: int = 800, overlap_chars: int = 200) -> list[Chunk]:
    return [c for a in articles for c in chunk_article(a, max_chars, overlap_chars)]
