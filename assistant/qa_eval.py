"""Answer quality on any document set: ``assistant eval --qa DIR``.

``DIR`` holds ``documents/`` (articles in any format the loaders read) and ``questions.jsonl``,
one object a line: ``{"kind": "single"|"multi"|"no_answer", "q": ..., "document": <file name
inside documents/>, "answer": <reference answer, absent for no_answer>}`` (the format of the
Single-Topic RAG Evaluation Dataset).

The documents are indexed by the normal pipeline into a data folder of their own (reused while
they do not change: the incremental indexer embeds nothing then), and every question is asked
the way a user would: within its document (the "Limit to articles" filter) or, with
``scope="open"``, over all documents.

Scoring (pure, ``score_qa``): an answer is *correct* when at least half of the reference
answer's content words (lower-cased, stemmed, stopwords out) appear in it; it *cites the right
document* when one of its citations comes from the question's document; ``no_answer`` questions
should be refused, the others never.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation import read_jsonl
from assistant.models import TextDelta
from corpus.errors import AssistantError

__all__ = ["QaItem", "QaResult", "QaReport", "load_qa", "content_words", "answer_recall", "score_qa", "summarize_qa", "run_qa"]

KINDS = ("single", "multi", "no_answer")


@dataclass(frozen=True)
class QaItem:
    kind: str
    question: str
    document: str
    answer: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind != "no_answer"


@dataclass(frozen=True)
class QaResult:
    kind: str
    question: str
    document: str
    refused: bool
    correct: bool
    recall: float  # share of the reference answer's content words in the answer
    right_document: bool  # a citation comes from the question's document
    cited_documents: tuple[str, ...]
    seconds: float
    first_text_s: float | None  # time to the first streamed text (LLM engines: the first verified sentence)
    answer: str = ""
    reference: str = ""
    reason: str | None = None
    first_token_s: float | None = None  # LLM engines: time from the question to the model's first token


@dataclass(frozen=True)
class QaReport:
    name: str
    engine: str
    scope: str
    items: tuple[QaResult, ...] = field(repr=False)
    metrics: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        m = self.metrics
        out = [
            f"{self.name}: {int(m['questions'])} questions ({int(m['answerable'])} answerable, {int(m['no_answer'])} no_answer), engine {self.engine}, {self.scope}",
            f"answer correctness: {m['correct']:.3f} ({int(m['correct_n'])}/{int(m['answerable'])})"
            + "".join(f"; {k} {m[f'correct_{k}']:.3f}" for k in ("single", "multi") if f"correct_{k}" in m),
            f"right document cited: {m['right_document']:.3f}",
            f"refusals on no_answer: {int(m['refusals'])}/{int(m['no_answer'])}",
            f"false refusals: {int(m['false_refusals'])}/{int(m['answerable'])}",
            f"latency: p50 {m['latency_p50_s'] * 1000:.0f} ms, p95 {m['latency_p95_s'] * 1000:.0f} ms",
        ]
        if "first_token_p50_s" in m:
            out.append(f"time to first token: p50 {m['first_token_p50_s']:.2f} s, p95 {m['first_token_p95_s']:.2f} s (from the question, retrieval included)")
        if "first_text_p50_s" in m:
            out.append(f"time to first text shown: p50 {m['first_text_p50_s']:.2f} s, p95 {m['first_text_p95_s']:.2f} s (the first sentence, once verified)")
        return out

    def misses(self) -> list[str]:
        """One block per question answered wrongly (or refused wrongly)."""
        out = []
        for r in self.items:
            if r.correct or (r.kind == "no_answer" and r.refused):
                continue
            got = " ".join(r.answer.split())
            ref = " ".join(r.reference.split())
            out.append(
                f"[{r.kind}] {r.question}  ({r.document})\n"
                f"  expected: {ref[:300] or '(a refusal)'}\n"
                f"  got{' (refused: ' + str(r.reason) + ')' if r.refused else f' (recall {r.recall:.2f})'}: {got[:400]}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "engine": self.engine, "scope": self.scope, **self.metrics, "items": [asdict(r) for r in self.items]}


def _item(obj: dict[str, Any], no: int) -> QaItem:
    kind = str(obj["kind"])
    if kind not in KINDS:
        raise ValueError(kind)
    answer = str(obj.get("answer") or "")
    if kind != "no_answer" and not answer.strip():
        raise ValueError("answer missing")
    return QaItem(kind, str(obj["q"]), str(obj["document"]), answer)


def load_qa(folder: str | Path) -> tuple[Path, list[QaItem]]:
    """The ``documents/`` folder and the questions of a QA folder (one-line errors)."""
    folder = Path(folder)
    docs = folder / "documents"
    if not docs.is_dir():
        raise AssistantError(f"{folder}: no documents/ folder (expected documents/ and questions.jsonl)")
    items = read_jsonl(folder / "questions.jsonl", "QA question", _item)
    if not items:
        raise AssistantError(f"{folder / 'questions.jsonl'}: no questions")
    missing = sorted({i.document for i in items if not (docs / i.document).is_file()})
    if missing:
        raise AssistantError(f"{folder}: questions name documents that are not in documents/: {', '.join(missing[:3])}")
    return docs, items


def content_words(text: str) -> set[str]:
    """Lower-cased, stemmed content words (stopwords out), as the keyword index sees them."""
    from index.keyword import tokenize_query

    return set(tokenize_query(text))


def answer_recall(reference: str, answer: str) -> float:
    """Share of ``reference``'s content words present in ``answer``. Pure."""
    ref = content_words(reference)
    return len(ref & content_words(answer)) / len(ref) if ref else 0.0


def score_qa(item: QaItem, answer: Any, seconds: float, first_text_s: float | None, first_token_s: float | None = None) -> QaResult:
    """Score one answer (an ``Answer``) to ``item``. Pure."""
    recall = answer_recall(item.answer, answer.text) if item.answerable and not answer.refused else 0.0
    cited = tuple(dict.fromkeys(c.source for c in answer.citations))
    return QaResult(
        kind=item.kind,
        question=item.question,
        document=item.document,
        refused=answer.refused,
        correct=item.answerable and not answer.refused and recall >= 0.5,
        recall=round(recall, 3),
        right_document=item.document in cited,
        cited_documents=cited,
        seconds=seconds,
        first_text_s=first_text_s,
        answer=answer.text,
        reference=item.answer,
        reason=answer.reason,
        first_token_s=first_token_s,
    )


def _quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def summarize_qa(results: Sequence[QaResult], timed_first_text: bool = False) -> dict[str, float]:
    answerable = [r for r in results if r.kind != "no_answer"]
    unanswerable = [r for r in results if r.kind == "no_answer"]
    m: dict[str, float] = {
        "questions": float(len(results)),
        "answerable": float(len(answerable)),
        "no_answer": float(len(unanswerable)),
        "correct_n": float(sum(r.correct for r in answerable)),
        "correct": sum(r.correct for r in answerable) / max(1, len(answerable)),
        "right_document": sum(r.right_document for r in answerable) / max(1, len(answerable)),
        "refusals": float(sum(r.refused for r in unanswerable)),
        "false_refusals": float(sum(r.refused for r in answerable)),
        "mean_recall": sum(r.recall for r in answerable) / max(1, len(answerable)),
        "latency_p50_s": _quantile([r.seconds for r in results], 0.5),
        "latency_p95_s": _quantile([r.seconds for r in results], 0.95),
    }
    for kind in ("single", "multi"):
        of_kind = [r for r in answerable if r.kind == kind]
        if of_kind:
            m[f"correct_{kind}"] = sum(r.correct for r in of_kind) / len(of_kind)
    firsts = [r.first_text_s for r in results if r.first_text_s is not None and not r.refused]
    if timed_first_text and firsts:
        m["first_text_p50_s"] = _quantile(firsts, 0.5)
        m["first_text_p95_s"] = _quantile(firsts, 0.95)
    tokens = [r.first_token_s for r in results if r.first_token_s is not None and not r.refused]
    if timed_first_text and tokens:
        m["first_token_p50_s"] = _quantile(tokens, 0.5)
        m["first_token_p95_s"] = _quantile(tokens, 0.95)
    return m


def qa_data_dir(settings: Any, docs: Path) -> Path:
    """A data folder of its own per document folder, under the assistant's data folder."""
    key = hashlib.sha256(str(docs.resolve()).encode()).hexdigest()[:12]
    return settings.data_dir / "qa" / f"{docs.parent.name or 'docs'}-{key}"


def ask_timed(assistant: Any, question: str, sources: Sequence[str] | None) -> tuple[Any, float, float | None, float | None]:
    """The answer, the seconds it took, the seconds to its first streamed text and (LLM
    engines) to the model's first token."""
    started = time.perf_counter()
    first = None
    answer = None
    ended = None
    for event in assistant.ask_stream(question, sources=sources):
        if isinstance(event, TextDelta):
            if first is None and event.text.strip():
                first = time.perf_counter() - started
        else:
            answer = event
            ended = time.perf_counter() - started
    assert answer is not None and ended is not None
    return answer, time.perf_counter() - started, first, first_token_at(answer, ended)


def first_token_at(answer: Any, ended: float) -> float | None:
    """Seconds from the question to the model's first token, from the answer's generation
    timing and when the answer arrived (``ended``): the generation began ``seconds`` before it
    ended. Counts the few milliseconds of quoting after generation too (an upper bound). Pure."""
    g = getattr(answer, "generation", None)
    if g is None or not g.tokens:
        return None
    return max(0.0, ended - g.seconds + g.first_token_s)


def run_qa(
    settings: Any,
    folder: str | Path,
    scope: str = "document",
    assistant: Any = None,
    progress: Any = None,
) -> QaReport:
    """Index ``folder``'s documents (reused when unchanged) and ask every question."""
    from assistant.core import Assistant

    if scope not in ("document", "open"):
        raise AssistantError(f"scope must be 'document' or 'open'. Currently, it is {scope!r}")
    docs, items = load_qa(folder)
    if assistant is None:
        s = settings.with_(corpus_dir=docs, data_dir=qa_data_dir(settings, docs))
        s.data_dir.mkdir(parents=True, exist_ok=True)
        assistant = Assistant.from_settings(s)
    report = assistant.index(lock_timeout=600)
    indexed = {source for source, _ in assistant.articles()}
    missing = sorted({i.document for i in items} - indexed)
    if missing:
        raise AssistantError(f"{folder}: documents not indexed (see the loader warnings): {', '.join(missing[:3])}")
    del report
    results = []
    for n, item in enumerate(items, start=1):
        sources = [item.document] if scope == "document" else None
        answer, seconds, first, token = ask_timed(assistant, item.question, sources)
        results.append(score_qa(item, answer, seconds, first, token))
        if progress is not None:
            progress(n, len(items))
    engine = assistant.settings.engine
    return QaReport(Path(folder).name, engine, scope, tuple(results), summarize_qa(results, timed_first_text=engine != "extractive"))
