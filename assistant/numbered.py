"""Numbered items of an article ("1. You create an analysis but nobody acts on it", "Step 2: Ensure
buy-in", "3) Rise of lightweight frameworks"): the list a "What are the steps / examples / trends"
question asks for, when the article numbers it. Pure.

Web pages reach the index in several shapes — a numbered heading becomes a section, a numbered
line after a lead-in a list item, a short numbered heading may share a chunk with the section
before it — so the items are read from the article in reading order: each chunk's section
heading when it changes, then the chunk's lines. A *run* is 1, 2, 3, … with the same numbering
style, at least three items, in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.models import Passage

__all__ = ["Item", "numbered_runs", "best_run"]

_NUMBERED = re.compile(r"^\s*(?:[-*•]\s+)?(?P<step>(?:step|part|tip|rule|phase|stage|day|chapter)\s+)?(?P<n>\d{1,2})\s*(?P<sep>[.):])\s+(?P<text>\S.{6,200})$", re.I)


@dataclass(frozen=True)
class Item:
    n: int
    text: str  # the item as written, without its number ("Ensure there is buy-in for your work")
    line: str  # the whole line ("Step 3: Ensure there is buy-in for your work")
    passage: Passage  # where it stands


def _items(chunks: Sequence[Passage]) -> list[tuple[str, Item]]:
    """Every numbered line or heading, in reading order, with its numbering style."""
    out: list[tuple[str, Item]] = []
    seen: set[str] = set()
    section = None
    for p in chunks:
        lines = ([p.section] if p.section != section else []) + p.text.split("\n")
        section = p.section
        for line in lines:
            m = _NUMBERED.match(line.strip())
            if not m:
                continue
            whole = line.strip().lstrip("-*• ").strip()
            if whole.lower() in seen:  # overlapping chunks repeat lines
                continue
            seen.add(whole.lower())
            style = f"{(m.group('step') or '').strip().lower()}|{m.group('sep')}"
            out.append((style, Item(int(m.group("n")), m.group("text").strip(), whole, p)))
    return out


def numbered_runs(chunks: Sequence[Passage], min_items: int = 3) -> list[list[Item]]:
    """The runs 1, 2, 3, … of ``chunks`` (one article, in reading order). Pure."""
    runs: list[list[Item]] = []
    open_runs: dict[str, list[Item]] = {}
    for style, item in _items(chunks):
        current = open_runs.get(style)
        if item.n == 1:
            if current is not None and len(current) >= min_items:
                runs.append(current)
            open_runs[style] = [item]
        elif current is not None and item.n == current[-1].n + 1:
            current.append(item)
    runs += [r for r in open_runs.values() if len(r) >= min_items]
    return sorted(runs, key=lambda r: chunks.index(r[0].passage) if r[0].passage in chunks else 0)


def best_run(runs: Sequence[list[Item]], top: Sequence[Passage], count: int | None = None) -> list[Item] | None:
    """The run the best passages are about: the one with most items in (or heading) the first
    three of ``top``, ties to the better-ranked passage; a run of ``count`` items (the question
    said "four steps") first. None when no run's item is among them."""
    first = list(top[:3])

    def hits(run: list[Item]) -> tuple[int, int, int]:
        ranks = [r for r, p in enumerate(first) for i in run if i.line in p.text or p.section.strip() == i.line]
        return (int(count is not None and len(run) == count), len(ranks), -min(ranks, default=99))

    scored = [(hits(r), r) for r in runs]
    scored = [(h, r) for h, r in scored if h[1] > 0]
    return max(scored, key=lambda x: x[0])[1] if scored else None
