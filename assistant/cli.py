"""The ``assistant`` command. The one place that turns ``AssistantError`` into a CLI error."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from assistant.models import TextDelta
from assistant.settings import Settings
from corpus.errors import AssistantError, IndexStateError

__all__ = ["cli", "main"]


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False), default=None, help="Corpus folder (env ASSISTANT_CORPUS).")
    @click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help="Data folder for the index (env ASSISTANT_DATA).")
    @click.option("--chroma-url", default=None, help="Use a Chroma server, e.g. http://127.0.0.1:8000 (env ASSISTANT_CHROMA_URL).")
    @functools.wraps(fn)
    def wrapper(corpus_dir: str | None, data_dir: str | None, chroma_url: str | None, **kwargs: Any) -> Any:
        settings = Settings.from_env(corpus_dir=corpus_dir, data_dir=data_dir, chroma_url=chroma_url)
        return fn(settings, **kwargs)

    return wrapper


def _engine(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine``: which engine answers (applied under ``_common``)."""

    @click.option(
        "--engine",
        type=click.Choice(["extractive", "local", "openai"]),
        default=None,
        help="Answer engine: extractive (default), local (llama.cpp) or openai (an OpenAI-compatible server) (env ASSISTANT_ENGINE).",
    )
    @functools.wraps(fn)
    def wrapper(settings: Settings, engine: str | None, **kwargs: Any) -> Any:
        return fn(settings.with_(engine=engine), **kwargs)

    return wrapper


def _stream_answer(assistant: Any, question: str, history: tuple[tuple[str, str], ...] = ()) -> Any:
    """Print the answer text as the engine streams it, then its sources and notices; return it."""
    shown: list[str] = []
    answer = None
    for event in assistant.ask_stream(question, history=history):
        if isinstance(event, TextDelta):
            click.echo(event.text, nl=False)
            sys.stdout.flush()
            shown.append(event.text)
        else:
            answer = event
    rendered = _render(answer)
    if shown and "".join(shown) == answer.text:
        rendered = rendered[len(answer.text):].lstrip("\n")
        click.echo()
    if rendered:
        click.echo("\n" + rendered if shown else rendered)
    for notice in answer.notices:
        click.echo(f"note: {notice}", err=True)
    return answer


def _assistant(settings: Settings) -> Any:
    from assistant.core import Assistant

    return Assistant.from_settings(settings)


def _progress_bar(enabled: bool) -> Callable[[int, int], None] | None:
    if not enabled:
        return None
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total < 64:
            return
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, leave=False)
        bar = state["bar"]
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Ask questions about a collection of articles and get answers with cited passages."""


@cli.command("index")
@_common
@click.option("--rebuild", is_flag=True, help="Drop the index and build it from scratch.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--check", is_flag=True, help="Only report whether the index matches the corpus (exit 1 when not).")
@click.option("--watch", is_flag=True, help="Keep watching the corpus folder; re-index after changes (Ctrl-C to stop).")
@click.option("--quiet", type=float, default=1.0, show_default=True, help="With --watch: seconds without changes that end a burst.")
@click.option("--feeds-every", type=float, default=None, help="With --watch: also sync the followed feeds every N minutes.")
def index_cmd(settings: Settings, rebuild: bool, as_json: bool, check: bool, watch: bool = False, quiet: float = 1.0,
              feeds_every: float | None = None) -> None:
    """Index the corpus folder: embed new and changed articles, remove deleted ones."""
    try:
        assistant = _assistant(settings)
    except IndexStateError:
        if not rebuild or settings.chroma_url:
            raise
        from index.client import discard_local_index

        discard_local_index(settings.chroma_path, settings.lock_path)  # unreadable: start afresh
        assistant = _assistant(settings)
    if check:
        result = assistant.check_index()
        click.echo(result.summary())
        if not result.ok:
            sys.exit(1)
        return
    if watch:
        from assistant.cli_sources import run_watch

        if rebuild:
            assistant.index(rebuild=True)
        run_watch(settings, assistant, quiet, feeds_every)
        return
    report = assistant.index(rebuild=rebuild, progress=_progress_bar(not as_json and sys.stderr.isatty()))
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        keys = ("added", "updated", "removed", "unchanged", "chunks", "embedded")
        out = {k: getattr(report, k) for k in keys}
        out["seconds"] = round(report.seconds, 3)
        click.echo(json.dumps(out))
    else:
        click.echo(report.summary())


def _terminal_text(text: str) -> str:
    """An answer's Markdown for a terminal: no ``**``; a table becomes one block per row, each
    cell on its own line under its column's name (long cells do not fit side by side)."""
    out: list[str] = []
    header: list[str] = []
    for line in text.replace("**", "").split("\n"):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", stripped[1:-1])]
            if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                continue
            if not header:
                header = cells
                continue
            out += [f"  {h}: {c}" for h, c in zip(header, cells)] + [""]
        else:
            header = []
            out.append(line)
    return "\n".join(out).rstrip()


def _render(answer: Any) -> str:
    lines = [_terminal_text(answer.text) if getattr(answer, "shape", "factoid") != "factoid" else answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            where = " · ".join(x for x in (c.publisher, c.date, c.section) if x)
            lines.append(f"  [{c.n}] {c.title} ({c.source}){' — ' + where if where else ''}")
            if getattr(c, "url", None):
                lines.append(f"      {c.url}")
            quote = " ".join(c.quotes) if c.quotes else c.text
            lines.append(f"      “{quote[:300]}{'…' if len(quote) > 300 else ''}”")
    if getattr(answer, "related", ()):
        lines += ["", "Closest passages (they do not answer it):"]
        lines += [f"  - {c.title} ({c.source}){' — ' + c.section if c.section else ''}" for c in answer.related]
    return "\n".join(lines)


@cli.command("ask")
@_common
@_engine
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def ask_cmd(settings: Settings, question: str, as_json: bool) -> None:
    """Answer one QUESTION from the articles, with citations."""
    if not question.strip():
        raise AssistantError("the question is empty; ask something about the articles")
    if len(question.strip()) > settings.max_question_chars:
        raise AssistantError(f"the question is too long ({len(question.strip()):,} characters; the limit is {settings.max_question_chars:,})")
    if settings.engine != "extractive" and not as_json:
        _stream_answer(_assistant(settings), question)
        return
    answer = _assistant(settings).ask(question)
    if answer.reason in ("empty_question", "question_too_long"):
        raise AssistantError(answer.text)
    click.echo(json.dumps(answer.to_dict(), ensure_ascii=False) if as_json else _render(answer))
    for notice in answer.notices:
        click.echo(f"note: {notice}", err=True)


@cli.command("chat")
@_common
@_engine
def chat_cmd(settings: Settings) -> None:
    """A conversation in the terminal (empty line or Ctrl-D to quit)."""
    assistant = _assistant(settings)
    history: list[tuple[str, str]] = []
    click.echo("Ask about the articles. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("you> ")
        except EOFError:
            click.echo()
            break
        if not question.strip():
            break
        if settings.engine != "extractive":
            answer = _stream_answer(assistant, question, tuple(history))
        else:
            answer = assistant.ask(question, history=tuple(history))
            click.echo(_render(answer))
        click.echo()
        history.append((question, answer.text))


@cli.command("eval")
@_common
@_engine
@click.option("--questions", "questions", type=click.Path(dir_okay=False), default=None, help="Question set (JSON lines; see README).")
@click.option("--qa", "qa_dir", type=click.Path(file_okay=False), default=None, help="Instead: a folder with documents/ and questions.jsonl (reference answers); prints correctness, refusals, latency.")
@click.option("--open", "open_scope", is_flag=True, help="With --qa: ask over all documents instead of within each question's document.")
@click.option("--beir", "beir_dir", type=click.Path(file_okay=False), default=None, help="Instead: a BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv); prints nDCG@10, Recall@100, MRR@10 of the retriever `ask` uses.")
@click.option("--shapes", "shapes_file", type=click.Path(dir_okay=False), default=None, help="Instead: a shape question set (collection-wide, comparison, summary, list; see docs/shapes.md).")
@click.option("--feedback", "from_feedback", is_flag=True, help="Instead: turn the thumbs-down answers in <data>/feedback.jsonl into a question file (dev-set format) to review.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None, help="With --feedback: write the question file here (default: print it).")
@click.option("--k", "k", type=int, default=5, show_default=True, help="Cut-off for hit@k and MRR.")
@click.option("--show", is_flag=True, help="Also print every question answered wrongly.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def eval_cmd(settings: Settings, questions: str | None, qa_dir: str | None, open_scope: bool, beir_dir: str | None,
             shapes_file: str | None, from_feedback: bool, out_file: str | None, k: int, show: bool, as_json: bool) -> None:
    """Measure answers on a question set or a QA folder, or retrieval on a BEIR folder."""
    from assistant.evaluation import load_questions, run_eval

    if sum(bool(x) for x in (questions, qa_dir, beir_dir, shapes_file, from_feedback)) != 1:
        raise click.UsageError("give one of --questions FILE, --qa DIR, --beir DIR, --shapes FILE or --feedback")
    if from_feedback:
        _feedback_questions(settings, out_file)
        return
    if shapes_file:
        from assistant.shape_eval import load_shape_questions, run_shape_eval

        try:
            shape_items = load_shape_questions(shapes_file)
        except (OSError, ValueError) as exc:
            raise AssistantError(str(exc).splitlines()[0]) from None
        shaped = run_shape_eval(_assistant(settings), shape_items)
        click.echo(json.dumps(shaped.to_dict(), ensure_ascii=False) if as_json else "\n".join(shaped.lines()))
        if show and not as_json:
            click.echo("\n" + "\n".join(shaped.misses()))
        return
    if beir_dir:
        from assistant.beir import beir_settings, load_beir, run_beir

        data = load_beir(beir_dir)
        assistant = _assistant(beir_settings(settings, data))  # built as `ask` builds it: the same retriever
        beir = run_beir(settings, data, assistant, progress=_progress_bar(not as_json and sys.stderr.isatty()))
        click.echo(json.dumps(beir.to_dict()) if as_json else "\n".join(beir.lines()))
        return
    if qa_dir:
        from assistant.qa_eval import run_qa

        qa = run_qa(settings, qa_dir, scope="open" if open_scope else "document")
        click.echo(json.dumps(qa.to_dict(), ensure_ascii=False) if as_json else "\n".join(qa.lines()))
        if show and not as_json:
            click.echo("\n" + "\n".join(qa.misses()))
        return
    items = load_questions(questions)
    report = run_eval(_assistant(settings), items, k=k)
    if as_json:
        click.echo(json.dumps({"k": k, **report.metrics, "items": [r.__dict__ for r in report.items]}, ensure_ascii=False))
    else:
        for line in report.lines():
            click.echo(line)
        if show:
            click.echo("\n" + "\n".join(report.misses()))


def _feedback_questions(settings: Settings, out_file: str | None) -> None:
    """``eval --feedback``: the thumbs-down answers as a question file in the dev-set format."""
    from pathlib import Path

    from assistant.feedback import FeedbackStore, review_questions

    store = FeedbackStore(settings.data_dir / "feedback.jsonl")
    items = review_questions(store.read())
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if out_file is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out_file).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AssistantError(f"cannot write {out_file}: {exc.strerror}") from None
    click.echo(f"{len(items)} question{'s' if len(items) != 1 else ''} from thumbs-down feedback written to {out_file}; fill in evidence and answer_any before scoring", err=True)


def _load_plugins() -> None:
    """Commands other packages add (entry-point group ``assistant.commands``): the ``ui``
    package adds ``assistant ui`` this way, so this module never imports the layer above it."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="assistant.commands"):
        if ep.name not in cli.commands:
            cli.add_command(ep.load(), ep.name)


def _register_sources() -> None:
    """``add`` and ``feeds`` (articles by URL and from feeds) live in ``assistant.cli_sources``."""
    from assistant.cli_sources import add_cmd, feeds_group

    cli.add_command(add_cmd)
    cli.add_command(feeds_group)


_register_sources()


def main(argv: list[str] | None = None) -> None:
    try:
        _load_plugins()
        cli.main(args=argv, prog_name="assistant", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AssistantError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
