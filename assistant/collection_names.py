"""Collection answers about named things: which names the question shares with the articles,
"which frameworks do the articles mention most often" (names counted per article, from what
was extracted at index time) and "which articles mention X"."""

from __future__ import annotations

import re
from typing import Any

from assistant.collection_reader import Catalog, CollectionParams, KnowledgeReader, finish, refuse
from assistant.collection_text import MARKER, mention_pattern, sentences
from assistant.citations import attach_citation
from assistant.models import Answer
from assistant.shapes import Shape
from index.named_things import Mention, name_key

__all__ = ["articles_naming", "name_counts", "named_in", "spelled_in"]

_NAME = re.compile(r"[A-Z][\w.+#]*(?:\s+[A-Z][\w.+#]*)*|[a-z]+[A-Z][\w.+#]*")


def named_in(reader: KnowledgeReader, question: str, cat: Catalog) -> list[str]:
    """Name keys of the question that some article names ("Deno", "Spring Boot")."""
    runs = [m.group(0).split() for m in _NAME.finditer(question) if m.start() > 0]
    if not runs:
        return []
    known = reader.name_keys(cat)
    out: list[str] = []
    for words in runs:
        for size in range(len(words), 0, -1):  # the longest known run of words
            for i in range(len(words) - size + 1):
                key = name_key(" ".join(words[i : i + size]))
                if key in known and key not in out and not any(key in o for o in out):
                    out.append(key)
    return out


def spelled_in(reader: KnowledgeReader, question: str) -> list[str]:
    """Capitalised words of the question (past its first) that the keyword index knows."""
    words = re.findall(r"[A-Za-z][\w+#.]*", question)[1:]
    return [w for w in words if w[:1].isupper() and reader.knows(w)]


def name_counts(reader: KnowledgeReader, params: CollectionParams, question: str, shape: Shape, cat: Catalog, counted: list[Any]) -> Answer:
    """The names of ``shape.entity``'s kind, by how many articles name them, each cited."""
    citer = reader.citer()
    total = len(cat.titles)
    lines = [f"The {shape.entity} the articles name, by how many articles name them ({total} articles in all):", ""]
    for c in counted[: params.max_names]:
        shown = sorted((x for x in c.by_source if x[1].chunk_id), key=lambda x: -x[1].count)[: params.cites_per_name]
        marks = "".join(f"[{citer.cite(m.chunk_id, s, cat.titles.get(s, ''), '', m.sentence)}]" for s, m in shown)
        more = f" and {len(c.sources) - len(shown)} more" if len(c.sources) > len(shown) else ""
        lines.append(f"- **{c.name}** — {len(c.sources)} of {total} articles {marks}{more}")
    return finish(question, shape, "\n".join(lines), citer)


def articles_naming(reader: KnowledgeReader, params: CollectionParams, question: str, shape: Shape, cat: Catalog, keys: list[str]) -> Answer:
    """For each name key: the articles that mention it, with the sentence where each does."""
    names = reader.names(cat)
    citer = reader.citer()
    total = len(cat.titles)
    lines = []
    for key in keys:
        found = {s: m for s, ms in names.items() for m in ms if name_key(m.name) == key and m.chunk_id}
        shown = next(iter(found.values())).name if found else key
        # the keyword index finds the articles where the name was not extracted (a lone
        # sentence-initial "Deno"): its chunks that spell it out
        pattern = mention_pattern(shown)
        for chunk, _ in reader.keyword.search(shown, params.keyword_hits):
            if chunk.source in found:
                continue
            spots = [x for x in sentences(chunk.text) if pattern.search(x)]
            if spots:
                found[chunk.source] = Mention(shown, len(pattern.findall(chunk.text)), (), spots[0], chunk.id)
        hits = list(found.items())
        if not hits:
            continue
        lines.append(f"{len(hits)} of {total} articles mention **{shown}**:")
        lines.append("")
        for s, m in sorted(hits, key=lambda h: -h[1].count):
            n = citer.cite(m.chunk_id, s, cat.titles.get(s, ""), "", m.sentence)
            lines.append(f"- *{cat.titles.get(s, s)}* ({m.count}×): {attach_citation(MARKER.sub('', m.sentence), n)}")
        lines.append("")
    if not lines:
        return refuse(question, shape)
    return finish(question, shape, "\n".join(lines).strip(), citer)
