"""Answers about the whole collection, comparisons and article summaries, from article knowledge.

``CollectionAnswerer.answer(question, shape)`` returns an ``Answer`` (or None when the index has
no article knowledge yet: the caller falls back to the ordinary engine). It never reads every
chunk: it reads the key points and named things made at index time (``index/knowledge.py``),
through the vector index of the same generation as the chunks. One module per kind of answer:

- **collection** (trends, "what do the articles say about X", "do they agree"): map and reduce
  of key points, ``assistant/collection_points.py``.
- **collection, named things** ("which frameworks do the articles mention most often", "which
  articles mention X"): ``assistant/collection_names.py``.
- **comparison**: ``assistant/comparison.py``; **summary**: ``assistant/summary.py``.

What they read (the catalog, names, sentence vectors, chunks) is ``KnowledgeReader``
(``assistant/collection_reader.py``); how they quote and cite is ``assistant/collection_text.py``.
Every sentence comes verbatim from an article and every ``[n]`` is the chunk it stands in.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from assistant.collection_names import articles_naming, name_counts, named_in, spelled_in
from assistant.collection_points import points
from assistant.collection_reader import ENGINE, CollectionParams, KnowledgeReader, refuse
from assistant.collection_text import focus, unknown_names
from assistant.comparison import comparison
from assistant.pros_cons import pros_cons, pros_cons_subject
from assistant.grouping import count_names
from assistant.models import Answer
from assistant.shapes import Shape
from assistant.summary import summary

__all__ = ["CollectionAnswerer", "CollectionParams", "focus", "unknown_names"]

_WHICH_ARTICLES = re.compile(r"\b(?:which|what|how many)\s+(?:of the\s+)?(?:articles|posts|documents|sources)\b", re.I)


class CollectionAnswerer:
    """Collection-wide, comparison and summary answers (see the module docstring).

    ``components``: the assistant's (``retriever`` with its pinned store, ``keyword``,
    ``query_embedder``), looked up at each question since a re-index swaps them. ``params``
    (or single fields of it as keywords) override the defaults of ``CollectionParams``.
    """

    name = ENGINE

    def __init__(self, components: Any, params: CollectionParams | None = None, **overrides: Any):
        self.params = replace(params or CollectionParams(), **overrides)
        self.reader = KnowledgeReader(components)

    def available(self) -> bool:
        """True when the committed index has article knowledge."""
        return self.reader.available()

    def answer(self, question: str, shape: Shape, source: str | None = None) -> Answer | None:
        """The answer of a collection, comparison or summary ``shape``; None without knowledge.
        ``source``: the one article a summary question is limited to ("What is this article about?")."""
        reader, params = self.reader, self.params
        if shape.name not in ("collection", "comparison", "summary") or not reader.available():
            return None
        if source is not None:
            return summary(reader, params, question, shape, only=source) if shape.name == "summary" else None
        asked = " ".join(shape.sides) if shape.name == "comparison" else shape.target if shape.name == "summary" else focus(question)
        if reader.unknown(asked):
            return refuse(question, shape)
        if shape.name == "comparison":
            return comparison(reader, params, question, shape)
        if shape.name == "summary":
            return summary(reader, params, question, shape)
        subject = pros_cons_subject(question)
        if subject is not None:
            return pros_cons(reader, params, question, shape, subject)
        cat = reader.catalog()
        if _WHICH_ARTICLES.search(question):
            named = named_in(reader, question, cat) or spelled_in(reader, question)
            if named:
                return articles_naming(reader, params, question, shape, cat, named)
        if shape.entity:
            counted = count_names(reader.names(cat), shape.entity)
            if len(counted) >= 2 and len(counted[0].sources) >= 1:
                return name_counts(reader, params, question, shape, cat, counted)
        return points(reader, params, question, shape, cat)
