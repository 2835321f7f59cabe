"""Article-level knowledge made at index time: key points and the named things an article discusses.

Pure functions; the indexer embeds the points and stores them with the chunks of the same
generation (``ChromaStore`` knowledge records), so collection-wide questions read these instead of
every chunk. One module per job:

- ``index/key_points.py``: key points (``KeyPoint``), central, non-redundant sentences.
- ``index/named_things.py``: named things (``Mention``), and ``index/name_kinds.py``: the words
  that say what each one is.
- ``index/knowledge_records.py``: the store's records of an ``ArticleKnowledge``, and back.
- ``index/knowledge_text.py``: the sentences, headings and word forms they share.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.models import Article, Chunk
from index.key_points import MAX_POINTS, KeyPoint, key_points
from index.named_things import MAX_KINDS, Mention, mentions

__all__ = ["ArticleKnowledge", "extract", "knowledge_signature"]

# the modules whose code decides what knowledge is made (and how it is stored)
_MAKERS = ("knowledge.py", "knowledge_text.py", "key_points.py", "named_things.py", "name_kinds.py", "knowledge_records.py")


@dataclass(frozen=True)
class ArticleKnowledge:
    source: str
    title: str
    article_hash: str
    points: tuple[KeyPoint, ...]
    mentions: tuple[Mention, ...]


@functools.cache
def knowledge_signature() -> str:
    """Names how knowledge is made (the code of the modules that make it, and its limits): a
    change recomputes it all."""
    h = hashlib.sha256(f"{MAX_POINTS}:{MAX_KINDS}\n".encode())
    for name in _MAKERS:
        h.update((Path(__file__).parent / name).read_bytes())
    return h.hexdigest()[:16]


def extract(article: Article, chunks: Sequence[Chunk]) -> ArticleKnowledge:
    """Key points and named things of one article (``chunks``: its chunks, for citations). Pure."""
    return ArticleKnowledge(article.source, article.title, article.hash, key_points(article, chunks), mentions(article, chunks))
