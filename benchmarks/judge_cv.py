"""Can the packaged model tell when the passages do not answer? A probe of the local engine,
with leave-one-set-out cross-validation of a refusal threshold on its answer. Not part of the
product (the sixth look in docs/answers.md: it did not pay, so nothing of it ships).

    .venv/bin/python -m benchmarks.judge_cv [--data /tmp/lead-data] [--sets stici,fresh,...] [--cache F.json]

For every question the relevance gate lets through (each limited to its document), the 1.5B
model reads the local engine's own answer prompt (the fenced excerpts and the question) with one
line added — each of ``ASKS`` in turn; they share the prompt's evaluated prefix, so each costs
~20 tokens (~0.5 s here) — and the log P(Yes) - log P(No) of its first reply token is recorded
(read by a logits processor; nothing else is generated). Then, for each ask: the AUC of
answerable against no_answer questions per set, and, each set held out in turn, the refusals and
false refusals a threshold fitted on the other sets (least ``pos_cost * false - refusals``)
adds to the gate's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core import Assistant
from assistant.qa_eval import load_qa, qa_data_dir
from assistant.settings import Settings
from benchmarks.answer_lab import SHARED

DATA = Path(__file__).resolve().parent / "data"
IN_SAMPLE = ("stici", "fresh", "fresh2", "fresh3", "fresh4", "own")  # fresh5 and holdout stay unread
ASKS = {
    "state": "Do the passages above state the answer to this question? Reply Yes or No.",
    "contain": "Is the answer to the question contained in the passages above? Answer Yes or No.",
    "enough": "Can the question be answered from the passages alone, without outside knowledge? Answer Yes or No.",
}


def _folder(name: str) -> Path:
    return SHARED / "eval" / "stici" if name == "stici" else DATA / name


def answer_tokens(llama: Any) -> tuple[list[int], list[int]]:
    """The first tokens of "Yes" and of "No" (bare, after a space, lower-case)."""
    first = lambda w: llama.tokenize(w.encode(), add_bos=False, special=False)[0]  # noqa: E731
    return [first(w) for w in ("Yes", " Yes", "yes")], [first(w) for w in ("No", " No", "no")]


def yes_no(llama: Any, messages: list[dict[str, str]], tokens: tuple[list[int], list[int]]) -> float:
    """log P("Yes") - log P("No") for the first token of the model's reply to ``messages``
    (``tokens``: ``answer_tokens(llama)``)."""
    from llama_cpp import LogitsProcessorList

    seen: list[np.ndarray] = []

    def keep(_ids: Any, scores: Any) -> Any:
        if not seen:
            seen.append(np.array(scores, dtype=np.float64))
        return scores

    llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, seed=0, logits_processor=LogitsProcessorList([keep]))
    yes, no = tokens
    return float(np.logaddexp.reduce(seen[0][yes]) - np.logaddexp.reduce(seen[0][no]))


def collect(data: Path, names: tuple[str, ...]) -> list[dict[str, Any]]:
    base = Settings.from_env(data_dir=str(data), engine="local")
    rows = []
    for name in names:
        docs, items = load_qa(_folder(name))
        s = base.with_(corpus_dir=docs, data_dir=qa_data_dir(base, docs))
        s.data_dir.mkdir(parents=True, exist_ok=True)
        a = Assistant.from_settings(s)
        a.index(lock_timeout=600)
        engine = a.engine
        engine.chat.warm_up()
        llama = engine.chat._llama[0]
        tokens = answer_tokens(llama)
        margins: dict[str, float] = {}
        answer_messages = engine.messages

        def messages(question: str, query: str, excerpts: Any) -> list[dict[str, str]]:
            msgs = answer_messages(question, query, excerpts)
            *head, user = msgs
            for key, ask in ASKS.items():
                margins[key] = yes_no(llama, [*head, {"role": "user", "content": f"{user['content']}\n\n{ask}"}], tokens)
            return msgs

        engine.messages = messages
        engine.chat.stream = lambda messages, max_tokens: iter(())  # no answer generated: the margins are all
        for item in items:
            margins.clear()
            a.ask(item.question, sources=[item.document])
            rows.append({"set": name, "q": item.question, "answerable": item.answerable, "gated": not margins, **margins})
        print(f"{name}: {len(items)} questions", flush=True)
    return rows


def auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def best_threshold(rows: list[dict[str, Any]], key: str, pos_cost: float) -> float:
    """Refuse below the returned margin: the least ``pos_cost * false - refusals`` on ``rows``."""
    scored = sorted({r[key] for r in rows})
    cuts = [scored[0] - 1.0] + [(a + b) / 2 for a, b in zip(scored, scored[1:])]

    def cost(t: float) -> float:
        return sum(pos_cost if r["answerable"] else -1.0 for r in rows if r[key] < t)

    return min(cuts, key=cost)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/lead-data")
    ap.add_argument("--sets", default=",".join(IN_SAMPLE))
    ap.add_argument("--cache", default="", help="a JSON file of margins: read if it exists, else written")
    ap.add_argument("--pos-cost", type=float, default=2.0, help="cost of a false refusal relative to a missed refusal")
    args = ap.parse_args()
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.exists():
        rows = json.loads(cache.read_text())
    else:
        rows = collect(Path(args.data), tuple(args.sets.split(",")))
        if cache is not None:
            cache.write_text(json.dumps(rows))
    judged = [r for r in rows if not r["gated"]]
    names = list(dict.fromkeys(r["set"] for r in rows))
    for key in ASKS:
        per_set = ", ".join(f"{n} {auc([r[key] for r in judged if r['set'] == n and r['answerable']], [r[key] for r in judged if r['set'] == n and not r['answerable']]):.2f}" for n in names)
        print(f"{key}: AUC past the gate {auc([r[key] for r in judged if r['answerable']], [r[key] for r in judged if not r['answerable']]):.2f} ({per_set})")
        added = false = 0
        for name in names if len(names) > 1 else ():
            t = best_threshold([r for r in judged if r["set"] != name], key, args.pos_cost)
            added += sum(1 for r in judged if r["set"] == name and not r["answerable"] and r[key] < t)
            false += sum(1 for r in judged if r["set"] == name and r["answerable"] and r[key] < t)
        neg = sum(not r["answerable"] for r in rows)
        pos = sum(r["answerable"] for r in rows)
        print(f"  held out (pos-cost {args.pos_cost:g}): refusals +{added}/{neg}, false refusals +{false}/{pos}")


if __name__ == "__main__":
    main()
