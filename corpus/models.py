"""Value types of the corpus stage: an ``Article`` and the ``Chunk``s cut from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = ["Article", "Chunk", "content_hash", "chunk_id"]


def content_hash(text: str) -> str:
    """Stable hash of an article's text and metadata; decides what to re-embed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(source: str, index: int, text: str, section: str = "") -> str:
    """Deterministic chunk id from source path, position, text and section (the section is
    embedded with the text, so a chunk whose section is named otherwise is another chunk)."""
    digest = hashlib.sha256(f"{source}\x00{index}\x00{text}\x00{section}".encode("utf-8")).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class Article:
    """A cleaned article.

    ``source`` is the file's path relative to the corpus folder (POSIX separators); it is
    the article's identity. ``text`` is the cleaned body in light Markdown (``#`` headings,
    blank lines between paragraphs); chunk spans index into it.
    """

    source: str
    title: str
    text: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def hash(self) -> str:
        meta = f"{self.title}\x00{self.publisher}\x00{self.date}\x00{self.url}"
        return content_hash(meta + "\x00" + self.text)


@dataclass(frozen=True)
class Chunk:
    """A passage of an article. ``article_text[start:end] == text`` always holds."""

    id: str
    source: str
    title: str
    section: str
    text: str
    start: int
    end: int
    index: int
    publisher: str | None = None
    date: str | None = None
    article_hash: str = ""
    url: str | None = None  # where the article was fetched from (front matter ``url``)

    def embedding_text(self) -> str:
        """What the embedder sees: the passage with its title and section for context."""
        heading = self.title if not self.section or self.section == self.title else f"{self.title} — {self.section}"
        return f"{heading}\n{self.text}"
