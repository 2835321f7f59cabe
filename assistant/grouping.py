"""The reduce step of collection-wide answers, and the Markdown they are written in. Pure.

``group`` puts together sentences of different articles that say the same thing (cosine of
their vectors at least ``threshold``, each joining the group of its most similar earlier, more
relevant member); ``rank`` orders groups by how many articles make the point, then by how
relevant their best sentence is. ``count_names`` does the same for named things, from what was
extracted at index time. ``table`` and ``label`` write the Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.knowledge_text import singular
from index.named_things import Mention, name_key

__all__ = ["Evidence", "Group", "NameCount", "count_names", "group", "label", "merge_singletons", "rank", "table", "unit"]


@dataclass(frozen=True, eq=False)
class Evidence:
    """One sentence of one article, relevant to the question (``relevance``: cosine, higher is better)."""

    text: str
    source: str
    title: str
    section: str
    chunk_id: str
    relevance: float
    vector: np.ndarray = field(repr=False)
    order: int = 0
    on_topic: bool = False  # names the question's subject, or sits under a heading that does


@dataclass(frozen=True)
class Group:
    """Sentences that say the same thing; ``members[0]`` is the most relevant."""

    members: tuple[Evidence, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.source for m in self.members))

    @property
    def best(self) -> Evidence:
        return self.members[0]


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (unchanged when zero)."""
    n = float(np.linalg.norm(v))
    return v / n if n else v


def group(evidence: Sequence[Evidence], threshold: float) -> list[Group]:
    """Average-link grouping: the two groups whose sentences are most alike on average merge,
    while that average cosine reaches ``threshold``. Members are listed by relevance. (Average
    link, not single link: a chain of pairwise-similar sentences does not become one group.)"""
    ranked = sorted(evidence, key=lambda e: -e.relevance)
    if not ranked:
        return []
    vectors = np.vstack([unit(np.asarray(e.vector, dtype=np.float32)) for e in ranked])
    sims = (vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(sims, -np.inf)
    groups: dict[int, list[int]] = {i: [i] for i in range(len(ranked))}
    alive = np.ones(len(ranked), dtype=bool)
    while len(groups) > 1:
        masked = np.where(alive[:, None] & alive[None, :], sims, -np.inf)
        x, y = np.unravel_index(int(np.argmax(masked)), masked.shape)
        if masked[x, y] < threshold:
            break
        x, y = min(x, y), max(x, y)
        nx, ny = len(groups[x]), len(groups[y])
        # average link, updated in place (Lance-Williams): the merged group's mean similarity
        merged = (nx * sims[x] + ny * sims[y]) / (nx + ny)
        sims[x], sims[:, x] = merged, merged
        sims[x, x] = -np.inf
        alive[y] = False
        groups[x] = sorted(groups[x] + groups.pop(y))
    return [Group(tuple(ranked[i] for i in g)) for g in sorted(groups.values(), key=lambda g: g[0])]


def rank(groups: Iterable[Group]) -> list[Group]:
    """Most articles first; then the more relevant on average."""
    return sorted(groups, key=lambda g: (-len(g.sources), -sum(m.relevance for m in g.members) / len(g.members)))


def merge_singletons(groups: Sequence[Group], generic: set[str], titles: set[str]) -> list[Group]:
    """Points only one article makes, merged per article and heading into one point (its
    sentences, most relevant first) instead of a bullet each; the order is kept. Pure."""
    out: list[Group] = []
    at: dict[tuple[str, str], int] = {}
    for g in groups:
        if len(g.sources) != 1:
            out.append(g)
            continue
        g = Group(_distinct(g.members))
        key = (g.sources[0], label(g, generic, titles))
        if key in at:
            merged = out[at[key]].members + tuple(m for m in g.members if not _overlaps(m, out[at[key]].members))
            out[at[key]] = Group(tuple(sorted(merged, key=lambda m: -m.relevance)))
        else:
            at[key] = len(out)
            out.append(g)
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _distinct(members: Sequence[Evidence]) -> tuple[Evidence, ...]:
    """``members`` without those that say again a sentence an earlier one says. Pure."""
    kept: list[Evidence] = []
    for m in members:
        if not _overlaps(m, kept):
            kept.append(m)
    return tuple(kept)


def _overlaps(m: Evidence, members: Sequence[Evidence]) -> bool:
    """Does ``m`` say a sentence again that one of ``members`` says? A sentence that opens with a
    pronoun is read with the one before it, so two neighbours can share a sentence. Pure."""
    said = {x.strip() for other in members if other.source == m.source for x in _SENTENCE_END.split(other.text)}
    return any(x.strip() in said for x in _SENTENCE_END.split(m.text) if len(x.strip()) >= 20)


_NUMBERING = re.compile(r"^\s*(?:\d+[.)]|[IVX]+\.)\s*")


def label(g: Group, generic: set[str], titles: set[str], max_words: int = 8) -> str:
    """A short name for a group: the heading of its most relevant member that is neither generic
    (a heading many articles use, "Conclusion"), nor an article title, nor long; '' when none."""
    for m in g.members:  # the most relevant member's heading, if it names something
        heading = _NUMBERING.sub("", m.section).strip(" :")
        if heading and heading.lower() not in generic and heading.lower() not in titles and len(heading.split()) <= max_words:
            return heading
    return ""


@dataclass(frozen=True)
class NameCount:
    """A named thing of the asked kind and the articles that name it (``source -> Mention``)."""

    name: str
    by_source: tuple[tuple[str, Mention], ...]
    weight: float

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.by_source)


def _mainly(mentions: Iterable[Mention], kind: str, share: float = 0.5) -> bool:
    """True unless the articles call the name something else much more ("Python": a language
    far more than a framework)."""
    totals: dict[str, float] = {}
    for m in mentions:
        for k, w in m.kinds:
            totals[k] = totals.get(k, 0.0) + w
    return totals.get(kind, 0.0) >= share * max(totals.values(), default=0.0)


def count_names(
    mentions: Mapping[str, Sequence[Mention]], kind: str, strong: float = 1.5, total: float = 2.0, relaxed: float = 0.5, enough: int = 3
) -> list[NameCount]:
    """Names of the asked ``kind`` ("frameworks" -> "framework"), by how many articles name them.

    A name is of the kind when some article calls it that strongly (a kind weight of ``strong``:
    "frameworks like X", "X is a framework", a section under "Best Frameworks") or the articles
    together do (``total``); when fewer than ``enough`` names qualify, any name an article calls
    that at all (``relaxed``) does — unless they call it something else twice as much. Then
    every article that names it counts. Ties: summed kind weight, then mentions. Pure."""
    want = singular(kind)
    by_key: dict[str, dict[str, Mention]] = {}
    weight: dict[str, list[float]] = {}
    for source, ms in mentions.items():
        for m in ms:
            key = name_key(m.name)
            by_key.setdefault(key, {})[source] = m
            w = m.kind_weight(want)
            if w > 0:
                weight.setdefault(key, []).append(w)
    members = [k for k, ws in weight.items() if (max(ws) >= strong or sum(ws) >= total) and _mainly(by_key[k].values(), want)]
    if len(members) < enough:
        members = [k for k, ws in weight.items() if max(ws) >= relaxed and _mainly(by_key[k].values(), want)]
    out = []
    for key in members:
        found = by_key[key]
        spelled: dict[str, int] = {}
        for m in found.values():
            spelled[m.name] = spelled.get(m.name, 0) + m.count
        name = max(spelled, key=lambda n: (spelled[n], -len(n)))
        mentioned = sum(m.count for m in found.values())
        out.append(NameCount(name, tuple(sorted(found.items())), round(sum(weight[key]) + 0.01 * mentioned, 3)))
    return sorted(out, key=lambda c: (-len(c.by_source), -c.weight, c.name.lower()))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; pipes inside cells are escaped, line breaks folded."""
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
