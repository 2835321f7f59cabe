"""Summary answers ("summarise the article about X"): the article whose title and content match
the target best; its key points in reading order, under their headings, cited."""

from __future__ import annotations

import re
from typing import Any

from assistant.citations import attach_citation
from assistant.collection_reader import CollectionParams, KnowledgeReader, finish, refuse
from assistant.collection_text import MARKER
from assistant.models import Answer
from assistant.shapes import Shape
from index.keyword import tokenize_query
from index.knowledge_records import point_from_record

__all__ = ["summary"]


def _one_per_section(points: list[Any], limit: int) -> list[Any]:
    """Up to ``limit`` points, every section's best first, then seconds; in reading order."""
    firsts, rest, seen = [], [], set()
    for p in points:  # best first
        (rest if p.section in seen else firsts).append(p)
        seen.add(p.section)
    return sorted((firsts + rest)[:limit], key=lambda p: p.order)


def summary(reader: KnowledgeReader, params: CollectionParams, question: str, shape: Shape, only: str | None = None) -> Answer:
    """The key points of the article ``shape.target`` names (or of ``only``, the one article the
    question is limited to)."""
    cat = reader.catalog()
    if not cat.titles or (only is not None and only not in cat.titles):
        return refuse(question, shape)
    if only is not None:
        return _points_of(reader, params, question, shape, cat, only)
    target = shape.target
    tokens = frozenset(tokenize_query(target))
    title_tokens = reader.title_tokens(cat)
    qv = reader.query_vector(target)
    store = reader.store
    content = {str(meta.get("source", "")): sim for _, _, meta, sim, _ in store.knowledge_nearest(qv, 20, where={"kind": "article"})}
    best_point: dict[str, float] = {}
    for _, _, meta, sim, _ in store.knowledge_nearest(qv, 60, where={"kind": "point"}):
        s = str(meta.get("source", ""))
        best_point[s] = max(best_point.get(s, 0.0), sim)

    def score(source: str) -> float:
        overlap = len(tokens & title_tokens.get(source, frozenset())) / max(1, len(tokens))
        return content.get(source, 0.0) + 0.5 * best_point.get(source, 0.0) + 0.6 * overlap

    source = max(cat.titles, key=score)
    if content.get(source, 0.0) < params.min_relevance and not tokens & title_tokens.get(source, frozenset()):
        return refuse(question, shape)
    return _points_of(reader, params, question, shape, cat, source)


def _points_of(reader: KnowledgeReader, params: CollectionParams, question: str, shape: Shape, cat: Any, source: str) -> Answer:
    store = reader.store
    records = store.knowledge_records(where={"$and": [{"kind": "point"}, {"source": source}]})
    points = _one_per_section(sorted((point_from_record(doc, meta) for _, doc, meta, _ in records), key=lambda p: -p.score), params.summary_points)
    if not points:
        return refuse(question, shape)
    title = cat.titles[source]
    citer = reader.citer()
    lines = [f"**{title}** — its key points, in order:", ""]
    last = None
    for p in points:
        n = citer.cite(p.chunk_id, source, title, p.section, p.text, p.score)
        heading = re.sub(r"^\s*\d+[.)]\s*", "", p.section).strip()
        head = f"**{heading}**: " if heading and heading != last and heading.lower() not in cat.generic else ""
        last = heading
        lines.append(f"- {head}{attach_citation(MARKER.sub('', p.text), n)}")
    return finish(question, shape, "\n".join(lines), citer)
