"""What the chat window shows, as HTML strings. Pure functions of ``Answer``s and plain values.

Every piece of article or user text goes through ``html.escape`` before it is placed in markup:
an article cannot inject tags or scripts into the page. The markup is a single line of HTML
(line breaks become ``<br>``), and the chat renders it with Markdown and LaTeX off
(``ui.app``), so article text or a question that looks like Markdown — ``![x](http://…)``,
``## heading``, blank lines — is shown as written and fetches nothing. The answers the assistant itself lays out — lists, tables and
summaries (``Answer.shape`` other than ``factoid``) — are turned into ``<ul>``/``<table>`` here
(``structured_html``): only "- " bullets, "| a | b |" tables, fenced code blocks and
``**bold**``/``*italic*``/```code``` in its own wording, all on escaped text.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

from assistant.engines import ENGINE_LABELS
from assistant.models import Answer, Citation

__all__ = [
    "answer_html",
    "partial_html",
    "pending_html",
    "error_html",
    "stopped_html",
    "is_unfinished",
    "sources_html",
    "passage_html",
    "quote_spans",
    "status_line",
    "upload_html",
    "question_html",
    "one_line",
    "structured_html",
    "engine_label",
    "refusal_reason",
    "SOURCES_EMPTY",
]

_MARKER = re.compile(r"\[(\d+)\]")
_REFUSAL_TAGS = {"not_covered": "Not in the articles", "empty_question": "Empty question", "question_too_long": "Too long",
                 "not_in_passages": "Not in the passages", "no_number": "No number given", "no_name": "No one named",
                 "no_date": "No date given"}
_REFUSAL_REASONS = {"not_covered": "the articles do not cover this question", "empty_question": "the question is empty",
                    "question_too_long": "the question is too long",
                    "not_in_passages": "the closest passages were read and do not answer it",
                    "no_number": "the passages on this question state no number for it",
                    "no_name": "the passages on this question name no one for it",
                    "no_date": "the passages on this question state no date for it"}
SOURCES_EMPTY = '<div class="sources-empty">Ask a question: the passages the answer cites appear here.</div>'


def _text(text: str) -> str:
    """Escaped text with line breaks kept, on one line of markup."""
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line (whitespace runs collapsed), cut at ``limit`` characters. Pure."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def question_html(text: str) -> str:
    """The person's own bubble: their words as text, line breaks kept, on one line of markup."""
    return f'<div class="question">{_text(text)}</div>'


def _with_links(text: str, valid: range) -> str:
    """Escaped ``text`` whose ``[n]`` markers link to source ``n`` in the sources panel."""
    out, last = [], 0
    for m in _MARKER.finditer(text):
        before = text[last : m.start()]
        out.append(_text(before[:-1] if before.endswith(" ") else before))
        n = int(m.group(1))
        if n in valid:
            out.append(f'<a class="cite" href="#source-{n}" title="Source {n}">[{n}]</a>')
        else:
            out.append(html.escape(m.group(0)))
        last = m.end()
    out.append(_text(text[last:]))
    return "".join(out)


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_ROW = re.compile(r"^\|(.*)\|\s*$")
_CODE = re.compile(r"`([^`<>]+)`")


def _inline(text: str, valid: range) -> str:
    """One line of the assistant's own layout: escaped, cited, with ``**bold**``/``*italic*``."""
    out = _with_links(text, valid)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def _cells(line: str) -> list[str]:
    inner = _ROW.match(line.strip())
    cells = re.split(r"(?<!\\)\|", inner.group(1)) if inner else []
    return [c.strip().replace("\\|", "|") for c in cells]


def structured_html(text: str, valid: range) -> str:
    """Markup for an answer laid out as Markdown paragraphs, "- " lists and "|" tables (the
    second table line, ``|---|``, separates the header). Every piece is escaped. Pure."""
    lines = text.strip().split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("```"):
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            i += 1  # the closing fence (or the end)
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].strip().startswith("- "):
                items.append(f"<li>{_inline(lines[i].strip()[2:], valid)}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
        elif _ROW.match(line):
            rows = []
            while i < len(lines) and _ROW.match(lines[i].strip()):
                rows.append(_cells(lines[i]))
                i += 1
            head, body = rows[0], [r for r in rows[1:] if not all(re.fullmatch(r":?-{3,}:?", c) for c in r)]
            th = "".join(f"<th>{_inline(c, valid)}</th>" for c in head)
            trs = "".join("<tr>" + "".join(f"<td>{_inline(c, valid)}</td>" for c in r) + "</tr>" for r in body)
            out.append(f'<table class="answer-table"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>')
        elif line:
            out.append(f"<p>{_inline(line, valid)}</p>")
            i += 1
        else:
            i += 1
    return "".join(out)


def engine_label(engine: str) -> str:
    """What the window calls an engine: ``extractive``, ``local model``, ... Pure."""
    return ENGINE_LABELS.get(engine, engine or "extractive")


def refusal_reason(answer: Answer) -> str:
    """Why ``answer`` was refused, in a few words. Pure."""
    return _REFUSAL_REASONS.get(answer.reason or "", "no answer was found in the articles")


def _engine_tag(answer: Answer) -> str:
    return f'<span class="engine-tag" title="Answered by the {html.escape(engine_label(answer.engine))} engine">{html.escape(engine_label(answer.engine))}</span>'


def answer_html(answer: Answer) -> str:
    """The chat bubble for a finished answer: cited text, or a refusal styled as such (its tag
    and a line saying why); both end in a small tag naming the engine."""
    if answer.refused:
        tag = _REFUSAL_TAGS.get(answer.reason or "", "No answer")
        why = f'<div class="refusal-why">Why: {html.escape(refusal_reason(answer))}.</div>'
        return f'<div class="reply refusal"><span class="refusal-tag">{tag}</span> {_text(answer.text.strip())}{why}{_engine_tag(answer)}</div>'
    valid = range(1, len(answer.citations) + 1)
    if getattr(answer, "shape", "factoid") != "factoid":
        body = structured_html(answer.text, valid)
    else:
        body = _with_links(answer.text.strip(), valid)
    notices = "".join(f'<div class="notice">{_text(n.strip())}</div>' for n in answer.notices)
    return f'<div class="reply answer">{body}{notices}{_checks_line(answer)}{_engine_tag(answer)}</div>'


def _checks_line(answer: Answer) -> str:
    """For generated answers: how many sentences the passages support, and how many were cut."""
    checks = getattr(answer, "checks", ())
    counted = [c for c in checks if c.status not in ("note", "quoted")]
    if not counted:
        return ""
    removed = sum(c.status == "unsupported" for c in counted)
    line = f"{html.escape(answer.engine)} engine · {len(counted) - removed} of {len(counted)} generated sentences supported by the passages"
    if removed:
        line += f" · {removed} without support removed"
    quoted = sum(c.status == "quoted" for c in checks)
    if quoted:
        line += " · the passage sentence most relevant to the question added verbatim"
    return f'<div class="answer-checks">{line}</div>'


def partial_html(text: str) -> str:
    """The chat bubble while the answer is still streaming in."""
    return f'<div class="reply answer streaming">{_with_links(text.strip(), range(1, 100))}<span class="caret"></span></div>'


def pending_html(chosen: int = 0) -> str:
    """The bubble before the first words: which articles are being searched."""
    where = f"the {chosen} chosen article{'s' if chosen != 1 else ''}" if chosen else "the articles"
    return f'<div class="reply pending">Searching {where}…</div>'


def stopped_html() -> str:
    """What replaces an answer stopped half-way: its unchecked part is not kept."""
    return '<div class="reply stopped">Stopped before the answer was complete.</div>'


def is_unfinished(markup: str) -> bool:
    """True for the bubble of an answer still on its way (pending or streaming)."""
    return markup.startswith(('<div class="reply pending">', '<div class="reply answer streaming">'))


def error_html(message: str) -> str:
    return f'<div class="reply error-reply">{_text(message.strip())}</div>'


def quote_spans(text: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` spans of ``text`` where the quotes occur.

    Matching ignores differences in whitespace; a quote not found is skipped. Pure.
    """
    spans = []
    for quote in quotes:
        words = quote.split()
        if not words:
            continue
        m = re.search(r"\s+".join(re.escape(w) for w in words), text)
        if m:
            spans.append((m.start(), m.end()))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def passage_html(text: str, quotes: Sequence[str]) -> str:
    """The passage, escaped, with the sentences the answer used in ``<mark>``."""
    out, last = [], 0
    for start, end in quote_spans(text, quotes):
        out.append(_text(text[last:start]))
        out.append(f"<mark>{_text(text[start:end])}</mark>")
        last = end
    out.append(_text(text[last:]))
    return "".join(out).strip()


def _web_link(url: str | None, text: str) -> str:
    """``text`` (escaped) linking to ``url`` in a new tab when it is an http(s) address; plain
    text otherwise (a ``javascript:`` or other scheme in an article's front matter links nowhere)."""
    from urllib.parse import urlsplit

    label = html.escape(text)
    try:
        ok = bool(url) and urlsplit(str(url)).scheme.lower() in ("http", "https") and bool(urlsplit(str(url)).hostname)
    except ValueError:
        ok = False
    if not ok or any(ch.isspace() or not ch.isprintable() for ch in str(url)):
        return label
    return f'<a href="{html.escape(str(url), quote=True)}" target="_blank" rel="noopener noreferrer nofollow">{label}</a>'


def _source_card(c: Citation) -> str:
    meta = " · ".join(html.escape(x) for x in (c.publisher, c.date) if x)
    section = f'<div class="source-section">§ {html.escape(c.section)}</div>' if c.section else ""
    return (
        f'<div class="source" id="source-{c.n}">'
        f'<div class="source-head"><span class="source-n">{c.n}</span>'
        f'<span class="source-title">{_web_link(getattr(c, "url", None), c.title)}</span></div>'
        f'<div class="source-meta">{meta + " · " if meta else ""}<code>{html.escape(c.source)}</code></div>'
        f"{section}"
        f'<div class="passage">{passage_html(c.text, c.quotes)}</div>'
        "</div>"
    )


def sources_html(answer: Answer | None) -> str:
    """The sources panel: one card per citation; nothing for a refusal."""
    if answer is None:
        return SOURCES_EMPTY
    if answer.refused and answer.related:  # the model read these and found no answer in them
        cards = "".join(_source_card(c) for c in answer.related)
        return ('<div class="sources related"><div class="sources-for">Not answered; the closest passages, '
                f'for reading yourself:</div>{cards}</div>')
    if answer.refused or not answer.citations:
        return '<div class="sources-empty">No sources: the articles do not answer this question.</div>'
    cards = "".join(_source_card(c) for c in answer.citations)
    n = len(answer.citations)
    return f'<div class="sources"><div class="sources-for">{n} source{"s" if n != 1 else ""} for “{html.escape(answer.question)}”</div>{cards}</div>'


def status_line(status: dict[str, Any] | None, error: str | None = None) -> str:
    """``5 articles · 94 chunks · last indexed 2026-11-22 00:51``."""
    if error:
        return f'<div class="status status-error">{html.escape(error)}</div>'
    status = status or {}
    articles, chunks = status.get("articles", 0), status.get("chunks", 0)
    parts = [f"{articles} article{'s' if articles != 1 else ''}", f"{chunks} passages"]
    last = status.get("last_indexed")
    parts.append("last indexed " + (time.strftime("%Y-%m-%d %H:%M", time.localtime(last)) if last else "never"))
    return f'<div class="status">{" · ".join(parts)}</div>'


def upload_html(lines: Sequence[tuple[bool, str]], summary: str | None = None) -> str:
    """The upload result: one line per file (ok or refused) and the indexing summary."""
    items = "".join(f'<li class="{"ok" if ok else "refused"}">{"✓" if ok else "✗"} {html.escape(text)}</li>' for ok, text in lines)
    tail = f'<div class="upload-summary">{html.escape(summary)}</div>' if summary else ""
    return f'<div class="upload-result"><ul>{items}</ul>{tail}</div>'
