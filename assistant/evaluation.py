"""Evaluation on question sets (format: one JSON object a line; see README). Pure scoring,
with the file reading and the assistant calls at the edge (``run_eval``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from corpus.errors import AssistantError

T = TypeVar("T")

__all__ = ["EvalItem", "ItemResult", "EvalReport", "load_questions", "score_item", "summarize", "run_eval"]


@dataclass(frozen=True)
class EvalItem:
    id: str
    turns: tuple[str, ...]
    evidence: tuple[str, ...]
    answer_any: tuple[str, ...]
    kind: str = ""  # the record's "kind", else follow_up / unanswerable / answerable

    @property
    def question(self) -> str:
        return self.turns[-1]

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


@dataclass(frozen=True)
class ItemResult:
    id: str
    answerable: bool
    rank: int | None  # 1-based rank of the first passage holding evidence, None if absent
    refused: bool
    correct: bool
    cited: int
    cited_with_evidence: int
    answer: str = ""
    sentences: int = 0  # generated sentences checked against the passages (LLM engines)
    supported: int = 0  # ... of which a passage supports
    first_token_s: float | None = None
    tokens_per_s: float | None = None
    kind: str = ""
    question: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class EvalReport:
    k: int
    items: tuple[ItemResult, ...] = field(repr=False)
    metrics: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        m = self.metrics
        return [
            f"questions: {int(m['questions'])} ({int(m['answerable'])} answerable, {int(m['unanswerable'])} unanswerable)",
            f"hit@{self.k}: {m['hit@k']:.3f}",
            f"MRR@{self.k}: {m['mrr']:.3f}",
            f"answer correctness: {m['answer_correctness']:.3f}",
            f"citation precision: {m['citation_precision']:.3f}",
            f"refusal accuracy: {int(m['refusals_correct'])}/{int(m['unanswerable'])}",
            f"false refusals: {int(m['false_refusals'])}/{int(m['answerable'])}",
        ] + ([
            f"supported sentences: {m['supported_share']:.3f} ({int(m['supported_sentences'])}/{int(m['checked_sentences'])} generated sentences)",
            f"time to first token: {m['first_token_s']:.2f} s (mean); {m['tokens_per_s']:.1f} tokens/s",
        ] if m.get("checked_sentences") else []) + [
            f"{kind}: hit@{self.k} {m[f'hit@k_{kind}']:.3f}, MRR@{self.k} {m[f'mrr_{kind}']:.3f}, correct {m[f'correct_{kind}']:.3f} ({int(m[f'n_{kind}'])})"
            for kind in self.kinds()
        ] + [f"latency: p50 {m['latency_p50_s'] * 1000:.0f} ms, p95 {m['latency_p95_s'] * 1000:.0f} ms"]

    def kinds(self) -> list[str]:
        return sorted({r.kind for r in self.items if r.answerable and r.kind})

    def misses(self) -> list[str]:
        """One line per question answered wrongly (or refused wrongly)."""
        out = []
        for r in self.items:
            if not r.correct:
                got = " ".join(r.answer.split())
                out.append(f"{r.id} [{r.kind}] {r.question}\n  rank {r.rank}, refused {r.refused}: {got[:300]}")
        return out


def read_jsonl(path: str | Path, kind: str, parse: Callable[[dict[str, Any], int], T]) -> list[T]:
    """``parse(record, line_number)`` for each JSON line of ``path``; one-line errors naming
    the file (and line) for an unreadable file or a record ``parse`` rejects."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"cannot read {kind} file {path}: {exc.strerror}") from None
    out: list[T] = []
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line), no))
        except (ValueError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}:{no}: not a {kind} record ({exc.__class__.__name__})") from None
    return out


def _question(obj: dict[str, Any], no: int) -> EvalItem:
    turns = tuple(obj["turns"]) if "turns" in obj else (obj["q"],)
    evidence = tuple(obj.get("evidence", ()))
    kind = str(obj.get("kind") or ("follow_up" if len(turns) > 1 else "answerable" if evidence else "unanswerable"))
    return EvalItem(str(obj.get("id", no)), turns, evidence, tuple(obj.get("answer_any", ())), kind)


def load_questions(path: str | Path) -> list[EvalItem]:
    items = read_jsonl(path, "question", _question)
    if not items:
        raise AssistantError(f"{path}: no questions")
    return items


def _has_evidence(text: str, evidence: Sequence[str]) -> bool:
    low = text.lower()
    return any(e.lower() in low for e in evidence)


def score_item(item: EvalItem, passage_texts: Sequence[str], answer_text: str, refused: bool, cited_texts: Sequence[str]) -> ItemResult:
    """Score one question from what was retrieved, answered and cited. Pure."""
    rank = None
    if item.answerable:
        for i, text in enumerate(passage_texts, start=1):
            if _has_evidence(text, item.evidence):
                rank = i
                break
    correct = (not refused) and any(a.lower() in answer_text.lower() for a in item.answer_any) if item.answerable else refused
    return ItemResult(
        id=item.id,
        answerable=item.answerable,
        rank=rank,
        refused=refused,
        correct=correct,
        cited=len(cited_texts),
        cited_with_evidence=sum(_has_evidence(t, item.evidence) for t in cited_texts) if item.answerable else 0,
        answer=answer_text,
        kind=item.kind,
        question=item.question,
    )


def summarize(results: Sequence[ItemResult], k: int) -> dict[str, float]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    cited = sum(r.cited for r in answerable)
    return {
        "questions": float(len(results)),
        "answerable": float(len(answerable)),
        "unanswerable": float(len(unanswerable)),
        "hit@k": sum(r.rank is not None and r.rank <= k for r in answerable) / max(1, len(answerable)),
        "mrr": sum(1.0 / r.rank for r in answerable if r.rank is not None and r.rank <= k) / max(1, len(answerable)),
        "answer_correctness": sum(r.correct for r in answerable) / max(1, len(answerable)),
        "citation_precision": sum(r.cited_with_evidence for r in answerable) / cited if cited else 0.0,
        "refusals_correct": float(sum(r.refused for r in unanswerable)),
        "refusal_accuracy": sum(r.refused for r in unanswerable) / max(1, len(unanswerable)),
        "false_refusals": float(sum(r.refused for r in answerable)),
        **_generation_metrics(results),
        **_by_kind(answerable, k),
        "latency_p50_s": _quantile([r.seconds for r in results], 0.5),
        "latency_p95_s": _quantile([r.seconds for r in results], 0.95),
    }


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _by_kind(answerable: Sequence[ItemResult], k: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind in sorted({r.kind for r in answerable if r.kind}):
        rs = [r for r in answerable if r.kind == kind]
        out[f"n_{kind}"] = float(len(rs))
        out[f"hit@k_{kind}"] = sum(r.rank is not None and r.rank <= k for r in rs) / len(rs)
        out[f"mrr_{kind}"] = sum(1.0 / r.rank for r in rs if r.rank is not None and r.rank <= k) / len(rs)
        out[f"correct_{kind}"] = sum(r.correct for r in rs) / len(rs)
    return out


def _generation_metrics(results: Sequence[ItemResult]) -> dict[str, float]:
    """Supported-sentence share and speed of LLM answers; empty when nothing was generated."""
    checked = sum(r.sentences for r in results)
    if not checked:
        return {}
    firsts = [r.first_token_s for r in results if r.first_token_s is not None]
    speeds = [r.tokens_per_s for r in results if r.tokens_per_s]
    return {
        "checked_sentences": float(checked),
        "supported_sentences": float(sum(r.supported for r in results)),
        "supported_share": sum(r.supported for r in results) / checked,
        "first_token_s": sum(firsts) / len(firsts) if firsts else 0.0,
        "tokens_per_s": sum(speeds) / len(speeds) if speeds else 0.0,
    }


def run_eval(assistant: Any, items: Sequence[EvalItem], k: int = 5) -> EvalReport:
    from assistant.conversation import retrieval_query

    results = []
    for item in items:
        history: list[tuple[str, str]] = []
        for turn in item.turns[:-1]:
            history.append((turn, assistant.ask(turn, history=tuple(history)).text))
        query = retrieval_query(item.question, history)
        passages = assistant.retrieve(query, k=k)
        started = time.perf_counter()
        answer = assistant.ask(item.question, history=tuple(history))
        seconds = time.perf_counter() - started
        result = score_item(item, [p.text for p in passages], answer.text, answer.refused, [c.text for c in answer.citations])
        checks = [c for c in getattr(answer, "checks", ()) if c.status not in ("note", "quoted")]  # the model's own sentences
        gen = getattr(answer, "generation", None)
        result = replace(
            result,
            sentences=len(checks),
            supported=sum(c.supported for c in checks),
            first_token_s=gen.first_token_s if gen and gen.tokens else None,
            tokens_per_s=gen.tokens_per_s if gen and gen.tokens else None,
            seconds=seconds,
        )
        results.append(result)
    return EvalReport(k, tuple(results), summarize(results, k))
