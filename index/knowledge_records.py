"""Article knowledge as the store's records, and back: one record per point (embedded as
"section. sentence"), one per article (title and headings) and one with its names as JSON.
Pure; ``index/knowledge_store.py`` writes and reads them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from index.key_points import KeyPoint
from index.knowledge import ArticleKnowledge
from index.named_things import Mention

__all__ = ["MAX_NAMES", "mentions_from_record", "point_from_record", "sections_from_record", "to_records"]


def _rid(*parts: object) -> str:
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()[:32]


MAX_NAMES = 60  # per article, most mentioned first


def to_records(k: ArticleKnowledge, sections: Sequence[str] = ()) -> list[tuple[str, str, dict[str, Any], str]]:
    """``(id, document, metadata, text to embed)`` for the store: the article (title, headings),
    its names (a separate record, read only by questions about named things), then its points.
    Only points are embedded; the indexer gives the other two their points' centroid."""
    names = [[m.name, m.count, [list(x) for x in m.kinds], m.sentence[:200], m.chunk_id] for m in k.mentions[:MAX_NAMES]]
    article = (
        "a:" + _rid(k.source, k.article_hash),
        k.title,
        {"kind": "article", "source": k.source, "title": k.title, "article_hash": k.article_hash,
         "points": len(k.points), "sections": json.dumps(list(dict.fromkeys(sections)), ensure_ascii=False)},
        k.title,
    )
    named = (
        "n:" + _rid(k.source, k.article_hash),
        "",
        {"kind": "names", "source": k.source, "article_hash": k.article_hash, "names": json.dumps(names, ensure_ascii=False)},
        "",
    )
    points = [
        ("p:" + _rid(k.source, k.article_hash, p.order, p.text), p.text,
         {"kind": "point", "source": k.source, "title": k.title, "article_hash": k.article_hash,
          "section": p.section, "order": p.order, "start": p.start, "end": p.end, "score": p.score,
          "chunk_id": p.chunk_id},
         p.embedding_text())
        for p in k.points
    ]
    return [article, named, *points]


def point_from_record(text: str, meta: dict[str, Any]) -> KeyPoint:
    return KeyPoint(
        text=text,
        section=str(meta.get("section", "")),
        order=int(meta.get("order", 0)),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        score=float(meta.get("score", 0.0)),
        chunk_id=str(meta.get("chunk_id", "")),
    )


def _json_list(text: object) -> list[Any]:
    try:
        value = json.loads(str(text or "[]"))
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def sections_from_record(meta: dict[str, Any]) -> tuple[str, ...]:
    """The headings listed in an article record."""
    return tuple(str(h) for h in _json_list(meta.get("sections")))


def mentions_from_record(meta: dict[str, Any]) -> tuple[Mention, ...]:
    """The names listed in a names record."""
    return tuple(
        Mention(str(n[0]), int(n[1]), tuple((str(k), float(w)) for k, w in n[2]), str(n[3]), str(n[4]))
        for n in _json_list(meta.get("names"))
        if isinstance(n, list) and len(n) == 5
    )

