"""Parsing PDF and large HTML under budgets: in a child process that is killed when it runs over.

A 20 KB PDF can hold a content stream that inflates to megabytes, and pypdf's text extraction
costs about the square of that (8 MB took 69 s), so one upload could hold a CPU for an hour;
``html.parser`` takes seconds per megabyte of markup. So these parsers run in a fresh
interpreter (``python -I``: no fork of a threaded server, nothing inherited) with

- a wall-clock budget (``seconds``): past it the child is killed and the file refused,
- for PDF, pypdf's own limits set to ``max_inflated`` bytes per decompressed stream, so a bomb
  is refused at once instead of after inflating,
- an address-space cap, so a parser bug cannot take the machine's memory.

Every failure is an ``ArticleError`` with one line naming the file; nothing else escapes.
``extract_pdf`` and ``extract_html`` are what the child runs; they are plain functions.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from corpus.errors import ArticleError

__all__ = [
    "PdfText",
    "read_pdf_text",
    "read_html_parts",
    "extract_pdf",
    "extract_html",
    "DEFAULT_PARSE_SECONDS",
    "DEFAULT_MAX_INFLATED",
]

DEFAULT_PARSE_SECONDS = 4.0
DEFAULT_MAX_INFLATED = 4 * 1024 * 1024  # bytes per decompressed stream; real page streams are far smaller
_CHILD_MEMORY = 1024 * 1024 * 1024  # address space of the parsing process
_ROOT = str(Path(__file__).resolve().parent.parent)
_LIMIT_KEYS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "array_based_stream_maximum_output_length",
    "maximum_declared_stream_length",
    "flate_maximum_buffer_size",
)


@dataclasses.dataclass(frozen=True)
class PdfText:
    """The text of each page, and the document's title and author (None when absent)."""

    pages: tuple[str, ...]
    title: str | None = None
    author: str | None = None


def _plain(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def extract_pdf(data: bytes, max_inflated: int = DEFAULT_MAX_INFLATED) -> dict[str, Any]:
    """Extract in this process with pypdf's limits at ``max_inflated``; a JSON-able result:
    ``{"pages": [...], "title": ..., "author": ...}`` or ``{"error": kind}`` (``"limit"``,
    ``"memory"`` or ``"unreadable:<exception class>"``). Not budgeted in time by itself."""
    import io

    import pypdf
    from pypdf.errors import LimitReachedError

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    known = {f.name for f in dataclasses.fields(pypdf.Configuration)}
    limits = {k: max_inflated for k in _LIMIT_KEYS if k in known}
    try:
        with pypdf.apply_configuration(**limits):
            reader = pypdf.PdfReader(io.BytesIO(data))
            pages = [page.extract_text() or "" for page in reader.pages]
            info = reader.metadata or {}
    except LimitReachedError:
        return {"error": "limit"}
    except MemoryError:
        return {"error": "memory"}
    except Exception as exc:  # noqa: BLE001 - any parser failure is one verdict on this file
        return {"error": f"unreadable:{exc.__class__.__name__}"}
    get = info.get if hasattr(info, "get") else (lambda key: None)
    return {"pages": pages, "title": _plain(get("/Title")), "author": _plain(get("/Author"))}


def extract_html(data: bytes) -> dict[str, Any]:
    """``html_to_article_parts`` of UTF-8 ``data`` (normalized first, as the loader does) as a JSON-able result (``body``, ``meta``)."""
    from corpus.clean import normalize
    from corpus.html import html_to_article_parts

    try:
        body, meta = html_to_article_parts(normalize(data.decode("utf-8")))
    except MemoryError:
        return {"error": "memory"}
    except Exception as exc:  # noqa: BLE001 - any parser failure is one verdict on this file
        return {"error": f"unreadable:{exc.__class__.__name__}"}
    return {"body": body, "meta": meta}


def _run(kind: str, data: bytes, name: str, label: str, seconds: float, max_inflated: int) -> dict[str, Any]:
    code = f"import sys; sys.path.insert(0, {_ROOT!r}); from corpus.bounded import _child; _child({kind!r}, {int(max_inflated)})"
    try:
        done = subprocess.run([sys.executable, "-I", "-c", code], input=data, capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise ArticleError(f"{name}: {label} took longer than {seconds:g} s to read; skipped") from None
    except OSError as exc:
        raise ArticleError(f"{name}: {label} could not be read here ({exc.strerror or exc.__class__.__name__}); skipped") from None
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        result = None
    if not isinstance(result, dict):
        result = {"error": "memory" if done.returncode else "unreadable:crash"}
    error = result.get("error")
    if error == "limit":
        raise ArticleError(f"{name}: {label} content inflates past the {max_inflated:,}-byte limit; skipped")
    if error == "memory":
        raise ArticleError(f"{name}: {label} needs too much memory to read; skipped")
    if error:
        raise ArticleError(f"{name}: unreadable {label} ({str(error).partition(':')[2] or 'damaged'}); skipped")
    return result


def read_pdf_text(
    data: bytes, name: str, seconds: float = DEFAULT_PARSE_SECONDS, max_inflated: int = DEFAULT_MAX_INFLATED
) -> PdfText:
    """The text of the PDF ``data`` (file ``name``), extracted in a child process within
    ``seconds`` and ``max_inflated`` bytes per stream. Raises ``ArticleError`` (one line)."""
    result = _run("pdf", data, name, "PDF", seconds, max_inflated)
    pages = result.get("pages") or []
    return PdfText(tuple(str(p) for p in pages), _plain(result.get("title")), _plain(result.get("author")))


def read_html_parts(html: str, name: str, seconds: float = DEFAULT_PARSE_SECONDS) -> tuple[str, dict[str, str | None]]:
    """``html_to_article_parts(html)`` in a child process within ``seconds``."""
    result = _run("html", html.encode("utf-8", "replace"), name, "HTML page", seconds, 0)
    meta = result.get("meta") or {}
    return str(result.get("body") or ""), {str(k): _plain(v) for k, v in meta.items()}


def _child(kind: str, max_inflated: int) -> None:
    """Entry point of the parsing process: the file's bytes on stdin, JSON on stdout."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_CHILD_MEMORY, _CHILD_MEMORY))
    except (ImportError, ValueError, OSError):
        pass
    data = sys.stdin.buffer.read()
    try:
        result = extract_pdf(data, max_inflated) if kind == "pdf" else extract_html(data)
    except MemoryError:
        result = {"error": "memory"}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
