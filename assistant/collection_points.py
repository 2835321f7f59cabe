"""Collection-wide answers by map and reduce ("what do the articles say about X", trends,
"do they agree"): map — each article's key points nearest the question (and, for a named X,
the sentence where each article mentions it); reduce — points of different articles that say
the same thing are grouped (``grouping.group``) and listed by how many articles make them,
every article cited."""

from __future__ import annotations

import re

import numpy as np

from assistant.citations import attach_citation, in_prose
from assistant.collection_names import named_in
from assistant.collection_reader import Catalog, CollectionParams, KnowledgeReader, finish, refuse
from assistant.collection_text import MARKER, dedupe, focus, mention_pattern, news, sentences
from assistant.grouping import Evidence, group, label, merge_singletons, rank, unit
from assistant.models import Answer, Passage
from assistant.shapes import Shape
from index.keyword import tokenize_query
from index.knowledge_records import point_from_record
from index.named_things import name_key

__all__ = ["points"]

# a question for the articles' overall view: their trends, themes, predictions, main points
_OVERVIEW = re.compile(
    r"\b(?:trends?|themes?|predict\w*|expect\w*|future|main|key|points|takeaways?|in common|overall|agree|disagree|consensus)\b", re.I
)


def _distinctive(reader: KnowledgeReader, params: CollectionParams, tokens: list[str]) -> frozenset[str]:
    """The tokens that mark a passage as on the topic: those in at most a quarter of the
    chunks ("framework" in a collection about frameworks says nothing)."""
    idf = getattr(reader.keyword, "idf", None)
    if idf is None or not tokens:
        return frozenset(tokens)
    return frozenset(t for t, v in idf(tokens).items() if v >= params.distinctive_idf)


def _mention_evidence(reader: KnowledgeReader, params: CollectionParams, keys: list[str], cat: Catalog, qv: np.ndarray) -> list[Evidence]:
    """For named things in the question: the sentence where each article names them."""
    if not keys:
        return []
    found = [(source, m) for source, ms in reader.names(cat).items() for m in ms if name_key(m.name) in keys and m.chunk_id]
    if not found:
        return []
    out = []
    for (source, m), v in zip(found, reader.embed([m.sentence for _, m in found])):
        v = v / (np.linalg.norm(v) or 1.0)
        chunk = reader.chunk(m.chunk_id)
        out.append(Evidence(m.sentence, source, cat.titles.get(source, ""), getattr(chunk, "section", ""), m.chunk_id, float(v @ qv) + params.named_bonus, v, on_topic=True))
    return out


def evidence(reader: KnowledgeReader, params: CollectionParams, topic: str, qv: np.ndarray, cat: Catalog, keys: list[str], broad: bool) -> list[Evidence]:
    """The map step: key points near the topic (from every article, through the knowledge
    index); unless the question is broad, also the sentences of the best passages that share
    a word with it and, for named things, the sentence where each article names them."""
    out = []
    for _, text, meta, sim, vec in reader.store.knowledge_nearest(qv, params.candidate_points, where={"kind": "point"}):
        p = point_from_record(text, meta)
        out.append(Evidence(p.text, str(meta.get("source", "")), str(meta.get("title", "")), p.section, p.chunk_id, sim, np.asarray(vec, dtype=np.float32), p.order))
    if broad:
        return out
    words = _distinctive(reader, params, tokenize_query(topic))
    pattern = [mention_pattern(k) for k in keys]
    raw: list[tuple[Passage, str]] = []
    for p in reader.retriever.retrieve(topic, k=params.candidate_passages):
        # a passage under a heading about the topic speaks of it in every sentence
        about = bool(words & frozenset(tokenize_query(p.section))) or any(x.search(p.section) for x in pattern)
        for sentence in sentences(p.text):
            if about or words & frozenset(tokenize_query(sentence)) or any(x.search(sentence) for x in pattern):
                raw.append((p, sentence))
    seen = {e.text for e in out}
    raw = [(p, s) for p, s in raw if s not in seen]
    for (p, sentence), v in zip(raw, reader.embed([s for _, s in raw])):
        v = v / (np.linalg.norm(v) or 1.0)
        bonus = params.named_bonus if any(x.search(sentence) or x.search(p.section) for x in pattern) else 0.0
        out.append(Evidence(sentence, p.source, p.title, p.section, p.chunk_id, float(v @ qv) + bonus, v, on_topic=True))
    return dedupe(out + _mention_evidence(reader, params, keys, cat, qv))


def points(reader: KnowledgeReader, params: CollectionParams, question: str, shape: Shape, cat: Catalog) -> Answer:
    """The reduce step: the points most articles make, grouped, each article cited."""
    topic = focus(question)
    qv = reader.query_vector(topic)
    keys = named_in(reader, question, cat)
    # how much the question is about what every article is about ("trends in backend
    # development" in a collection on backend trends): a broad one is answered with the
    # themes the articles share, a narrow one with what they say about its subject
    breadth = float(qv @ cat.centroid) if cat.centroid is not None else 0.0
    subject = [t for t in tokenize_query(_OVERVIEW.sub(" ", topic)) if not t.isdigit()]  # "main themes" has none
    broad = bool(_OVERVIEW.search(question)) and not keys and (not subject or breadth >= params.broad)
    if broad and not subject and cat.centroid is not None:
        # "What are the main themes?" names no subject: what the collection is about stands in
        qv, breadth = unit(cat.centroid), 1.0
    found = evidence(reader, params, topic, qv, cat, keys, broad)
    if not found or (not keys and max(e.relevance for e in found) < (params.broad_floor if broad else params.min_relevance)):
        return refuse(question, shape)
    if broad:  # a sentence that only restates the question ("Several emerging trends will shape ...") names no trend
        asked = frozenset(tokenize_query(question))
        found = [e for e in found if news(e.text, asked) >= params.min_news] or found
    if cat.centroid is not None:  # a sentence more generic than the question adds nothing to it
        generic = max(breadth, params.framing)
        found = [e for e in found if float(unit(e.vector) @ cat.centroid) < generic] or found
    top = max(e.relevance for e in found)
    floor = params.broad_floor if broad else max(params.min_relevance, top - params.relevance_margin)
    per_article = params.per_article_broad if broad else params.per_article
    kept: dict[str, list[Evidence]] = {}
    for e in sorted(found, key=lambda e: -e.relevance):
        # a sentence that names the subject (or sits under a heading that does) is about it
        # however its vector compares; the others must come close to the best
        if (e.on_topic or e.relevance >= floor) and len(kept.setdefault(e.source, [])) < per_article:
            kept[e.source].append(e)
    titles = {t.lower() for t in cat.titles.values()}
    grouped = rank(group([e for es in kept.values() for e in es], params.same_point))
    groups = merge_singletons(grouped, cat.generic, titles)[: params.max_groups]
    citer = reader.citer()
    total = len(cat.titles)
    lines = [f"What the articles say, the points most of them make first ({total} articles in all):", ""]
    for g in groups:
        marks = ""
        firsts = []
        for source in g.sources:
            m = next(x for x in g.members if x.source == source)
            firsts.append(m)
            marks += f"[{citer.cite(m.chunk_id, m.source, m.title, m.section, m.text, m.relevance)}]"
        if len(g.sources) == 1:  # one article's point: its sentences (merged by merge_singletons)
            firsts = list(g.members)
        said = " ".join(
            in_prose(attach_citation(MARKER.sub("", m.text), citer.cite(m.chunk_id, m.source, m.title, m.section, m.text, m.relevance)))
            for m in firsts[: params.quotes_per_point]
        )
        name = label(g, cat.generic, titles)
        head = f"**{name}** — " if name else ""
        lines.append(f"- {head}{len(g.sources)} of {total} articles {marks}: {said}")
    return finish(question, shape, "\n".join(lines), citer)
