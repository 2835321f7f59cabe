"""Evaluation of question shapes: collection-wide, comparison, summary and list questions.

A set is JSON lines: ``{"id", "q", "shape", "points": [[alternative, ...], ...],
"min_articles": n, "sources"?: [...], "refused"?: true}``. A question passes when the
classifier gives its shape, the answer is not refused (or is, for ``refused``), every point is
named (any of its alternatives: a capitalised alternative is matched as a whole word, case
included, "Go"; a lower-case one case-insensitively at the start of a word, "microservice"
matches "microservices"), at least ``min_articles`` different articles are cited, and, with
``sources``, only those articles are. Latency is reported per shape (p50, p95), with the time
to the first streamed text; with an LLM engine, the share of its generated sentences (the
overviews of whole-collection answers) that the cited sentences support.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.models import TextDelta
from assistant.shapes import SHAPES, classify

__all__ = ["ShapeItem", "ShapeReport", "ShapeResult", "load_shape_questions", "named", "run_shape_eval"]


@dataclass(frozen=True)
class ShapeItem:
    id: str
    q: str
    shape: str
    points: tuple[tuple[str, ...], ...] = ()
    min_articles: int = 1
    sources: tuple[str, ...] = ()
    refused: bool = False


@dataclass(frozen=True)
class ShapeResult:
    item: ShapeItem
    classified: str
    answered: str
    refused: bool
    missing: tuple[str, ...]
    articles: int
    foreign: tuple[str, ...]
    seconds: float
    first_text: float = 0.0  # seconds to the first streamed piece of text
    supported: int = 0  # generated sentences (LLM engines) the passages support ...
    checked: int = 0  # ... of those checked

    @property
    def passed(self) -> bool:
        if self.classified != self.item.shape:
            return False
        if self.item.refused:
            return self.refused
        return not self.refused and not self.missing and self.articles >= self.item.min_articles and not self.foreign


@dataclass
class ShapeReport:
    results: list[ShapeResult] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        return sum(r.passed for r in self.results) / len(self.results) if self.results else 0.0

    def latency(self, shapes: Sequence[str]) -> dict[str, float]:
        times = sorted(r.seconds for r in self.results if r.item.shape in shapes)
        if not times:
            return {}
        firsts = [r.first_text for r in self.results if r.item.shape in shapes]
        return {"p50": statistics.median(times), "p95": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
                "first_text_p50": statistics.median(firsts)}

    @property
    def supported_share(self) -> float | None:
        """Share of the generated sentences checked (LLM engines) that were supported; None if none."""
        checked = sum(r.checked for r in self.results)
        return sum(r.supported for r in self.results) / checked if checked else None

    def to_dict(self) -> dict[str, Any]:
        per_shape = {}
        for shape in SHAPES:
            rs = [r for r in self.results if r.item.shape == shape]
            if rs:
                per_shape[shape] = {"n": len(rs), "passed": sum(r.passed for r in rs), **{k: round(v, 3) for k, v in self.latency([shape]).items()}}
        return {
            "n": len(self.results),
            "pass_rate": round(self.pass_rate, 3),
            "shape_accuracy": round(sum(r.classified == r.item.shape for r in self.results) / max(1, len(self.results)), 3),
            "per_shape": per_shape,
            "supported_share": None if self.supported_share is None else round(self.supported_share, 3),
            "items": [{"id": r.item.id, "passed": r.passed, "shape": r.classified, "missing": list(r.missing), "articles": r.articles,
                       "seconds": round(r.seconds, 3)} for r in self.results],
        }

    def lines(self) -> list[str]:
        d = self.to_dict()
        out = [f"shape questions: {d['n']}, passed {sum(r.passed for r in self.results)} ({d['pass_rate']:.0%}), shape accuracy {d['shape_accuracy']:.0%}"]
        for shape, s in d["per_shape"].items():
            lat = f", p50 {s['p50'] * 1000:.0f} ms, p95 {s['p95'] * 1000:.0f} ms, first text p50 {s['first_text_p50'] * 1000:.0f} ms" if "p50" in s else ""
            out.append(f"  {shape:<11} {s['passed']}/{s['n']}{lat}")
        if self.supported_share is not None:
            checked = sum(r.checked for r in self.results)
            out.append(f"  generated sentences supported: {sum(r.supported for r in self.results)}/{checked} ({self.supported_share:.0%})")
        return out

    def misses(self) -> list[str]:
        out = []
        for r in self.results:
            if r.passed:
                continue
            why = []
            if r.classified != r.item.shape:
                why.append(f"classified {r.classified}")
            if r.item.refused != r.refused:
                why.append("refused" if r.refused else "not refused")
            if r.missing:
                why.append("missing " + ", ".join(r.missing))
            if not r.item.refused and r.articles < r.item.min_articles:
                why.append(f"{r.articles} articles cited < {r.item.min_articles}")
            if r.foreign:
                why.append("cites " + ", ".join(r.foreign))
            out.append(f"{r.item.id} {r.item.q} — {'; '.join(why)}")
        return out


def load_shape_questions(path: str | Path) -> list[ShapeItem]:
    """Read a shape question set; ``ValueError`` names the line of a bad entry."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if d["shape"] not in SHAPES:
                raise ValueError(f"unknown shape {d['shape']!r}")
            items.append(ShapeItem(
                id=str(d.get("id", n)), q=str(d["q"]), shape=d["shape"],
                points=tuple(tuple(str(a) for a in p) for p in d.get("points", [])),
                min_articles=int(d.get("min_articles", 1)), sources=tuple(d.get("sources", [])), refused=bool(d.get("refused", False)),
            ))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a shape question ({exc})") from None
    return items


def named(text: str, alternative: str) -> bool:
    """Whether ``text`` names ``alternative`` (see the module docstring for the rule). Pure."""
    if any(ch.isupper() for ch in alternative):
        return re.search(rf"(?<![\w]){re.escape(alternative)}(?![\w])", text) is not None
    return re.search(rf"(?<![\w]){re.escape(alternative)}", text, re.I) is not None


def run_shape_eval(assistant: Any, items: Sequence[ShapeItem]) -> ShapeReport:
    report = ShapeReport()
    for item in items:
        started = time.perf_counter()
        first = None
        for event in assistant.ask_stream(item.q):  # as the CLI and the chat window ask
            if first is None and isinstance(event, TextDelta):
                first = time.perf_counter() - started
        answer = event
        seconds = time.perf_counter() - started
        counted = [c for c in answer.checks if c.status != "note"]
        missing = tuple(p[0] for p in item.points if not any(named(answer.text, a) for a in p))
        cited = {c.source for c in answer.citations}
        foreign = tuple(sorted(cited - set(item.sources))) if item.sources else ()
        report.results.append(ShapeResult(item, classify(item.q).name, answer.shape, answer.refused, missing, len(cited), foreign, seconds,
                                          first if first is not None else seconds, sum(c.supported for c in counted), len(counted)))
    return report
