"""Pros-and-cons answers ("What are the pros and cons of microservices?"): the sentences of the
articles about the subject, each put on the side it argues — for or against — and shown side
by side in a Markdown table, every cell cited.

A sentence's side is decided from two things that hold for any collection: which of two
questions its vector is nearer to ("advantages and benefits of X" or "disadvantages, drawbacks
and challenges of X"), and the words that mark a drawback or a benefit in English ("however",
"complexity", "overhead" against "enables", "simplifies", "faster").
"""

from __future__ import annotations

import re

import numpy as np

from assistant.citations import attach_citation
from assistant.collection_reader import CollectionParams, KnowledgeReader, finish, refuse
from assistant.collection_text import MARKER, sentences
from assistant.grouping import table
from assistant.models import Answer, Passage
from assistant.shapes import PROS_CONS, Shape

__all__ = ["PROS_CONS", "pros_cons_subject", "pros_cons", "leaning"]

_CON = re.compile(
    r"\b(?:however|but|although|though|drawbacks?|downsides?|disadvantages?|challeng\w*|complex\w*|complicat\w*|difficult\w*|"
    r"hard(?:er)?|overhead|cost(?:ly|s)?|risk\w*|limit\w*|steep|slow\w*|burden\w*|pitfalls?|careful\w*|must\s+be\s+handled|"
    r"requires?|struggl\w*|problem\w*|issues?|lacks?|fragile|debt)\b",
    re.I,
)
_PRO = re.compile(
    r"\b(?:advantages?|benefits?|enabl\w*|allows?|simplif\w*|easier|faster|improv\w*|scal(?:e|es|able|ability)|flexib\w*|"
    r"independent\w*|individually|resilien\w*|efficien\w*|boosts?|helps?|strong\w*|reliab\w*|lets?|optimi[sz]\w*|"
    r"without\s+(?:affecting|worrying)|cuts?|saves?|compelling)\b",
    re.I,
)
_CUE = 0.06  # how far a drawback or benefit word tips a sentence
# a side needs a clear lean: sentences that only describe the subject argue neither way. The
# "drawbacks" question sits nearer to any sentence about the subject than the "benefits" one,
# so leans are measured from their median over the candidate sentences
_MARGIN = 0.03


def pros_cons_subject(question: str) -> str | None:
    """The X of "pros and cons of X" (and its paraphrases); None for other questions. Pure."""
    m = PROS_CONS.search(question.strip())
    if not m:
        return None
    x = re.sub(r"^(?:the|a|an|using|adopting)\s+", "", m.group("x").strip(), flags=re.I)
    return x or None


def leaning(sentence: str, pro_sim: float, con_sim: float) -> float:
    """> 0: the sentence argues against, < 0: for. Pure."""
    cues = len(_CON.findall(sentence)) - len(_PRO.findall(sentence))
    return (con_sim - pro_sim) + _CUE * max(-2, min(2, cues))


def _pattern(subject: str) -> re.Pattern[str]:
    """The subject in text, singular or plural ("microservices" also as "microservice")."""
    words = [re.escape(w) for w in subject.split()]
    if words and subject[-1:].lower() == "s" and not subject.isupper():
        words[-1] = words[-1][:-1] + "s?"
    flags = 0 if any(ch.isupper() for ch in subject) else re.I
    return re.compile(r"(?<![\w.])" + r"\s+".join(words) + r"(?![\w])", flags)


Item = tuple[float, Passage, str, np.ndarray]


def _pick(items: list[Item], limit: int) -> list[Item]:
    chosen: list[Item] = []
    for item in sorted(items, key=lambda x: -x[0]):
        if len(chosen) >= limit:
            break
        if not any(float(item[3] @ c[3]) > 0.85 for c in chosen):
            chosen.append(item)
    return chosen


def pros_cons(reader: KnowledgeReader, params: CollectionParams, question: str, shape: Shape, subject: str) -> Answer:
    """The subject's pros and cons as the articles give them, side by side."""
    pattern = _pattern(subject)
    for_q, against_q = f"advantages and benefits of {subject}", f"disadvantages, drawbacks and challenges of {subject}"
    seen: dict[str, Passage] = {}
    for query in (for_q, against_q):
        for p in reader.retriever.retrieve(query, k=8):
            seen.setdefault(p.chunk_id, p)
    raw: list[tuple[Passage, str]] = []
    for p in seen.values():
        about = bool(pattern.search(p.section))  # under a heading about the subject, every sentence is
        raw += [(p, s) for s in sentences(p.text) if about or pattern.search(s)]
    if not raw:
        return refuse(question, shape)
    vectors = reader.embed([s for _, s in raw])
    pro_v, con_v = reader.query_vector(for_q), reader.query_vector(against_q)
    scored = []
    for (p, s), v in zip(raw, vectors):
        v = v / (np.linalg.norm(v) or 1.0)
        pro_sim, con_sim = float(v @ pro_v), float(v @ con_v)
        scored.append((leaning(s, pro_sim, con_sim), max(pro_sim, con_sim), p, s, v))
    middle = float(np.median([x[0] for x in scored]))
    pros: list[Item] = []
    cons: list[Item] = []
    for lean, relevance, p, s, v in scored:
        lean -= middle
        if relevance >= params.min_relevance and abs(lean) >= _MARGIN:
            (cons if lean > 0 else pros).append((relevance + abs(lean), p, s, v))
    pros = _pick(pros, params.side_sentences)
    cons = _pick([c for c in cons if not any(float(c[3] @ x[3]) > 0.85 for x in pros)], params.side_sentences)
    if not pros and not cons:
        return refuse(question, shape)
    citer = reader.citer()

    def cell(item: Item | None) -> str:
        if item is None:
            return "—"
        _, p, s, _ = item
        return attach_citation(MARKER.sub("", s), citer.cite(p.chunk_id, p.source, p.title, p.section, s, p.score))

    rows = [[cell(pros[i] if i < len(pros) else None), cell(cons[i] if i < len(cons) else None)] for i in range(max(len(pros), len(cons)))]
    text = f"The pros and cons of {subject}, as the articles give them:\n\n" + table(["Pros", "Cons"], rows)
    missing = [side for side, got in (("benefits", pros), ("drawbacks", cons)) if not got]
    if missing:
        text += f"\n\nThe articles name no {missing[0]} of {subject}."
    return finish(question, shape, text, citer)
