"""Loading articles from a corpus folder: the only part of ``corpus`` that touches disk.

Supported: ``.md`` / ``.markdown`` (optional YAML front matter: title, publisher, date, url),
``.txt`` (cleaned of site clutter), ``.html`` / ``.htm`` (main text only) and ``.pdf``.
A file that cannot be used raises ``ArticleError`` naming it; ``load_corpus`` turns those into
one-line warnings and goes on with the rest.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from corpus.chunking import blocks, markdown_headings
from corpus.clean import clean_plain_text, normalize
from corpus.errors import ArticleError, CorpusError
from corpus.models import Article
from corpus.bounded import read_html_parts, read_pdf_text

__all__ = ["SUPPORTED_SUFFIXES", "CorpusLoad", "load_article", "load_corpus", "parse_markdown", "iter_article_files"]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
INLINE_HTML_CHARS = 200_000  # larger pages are parsed in a child process under a time budget
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)


@dataclass(frozen=True)
class CorpusLoad:
    """What ``load_corpus`` found: the articles and one warning per skipped file."""

    articles: tuple[Article, ...]
    warnings: tuple[str, ...] = field(default=())


def _decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ArticleError(f"{name}: damaged UTF-16 text; skipped — re-save it as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise ArticleError(f"{name}: binary file, not text; skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{name}: not UTF-8 text (byte {exc.start}); skipped — re-save it as UTF-8") from None


def _str_or_none(value: object) -> str | None:
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, (list, tuple)):
        # a list of plain values reads as one ("a, b"); anything nested (YAML alias bombs) is dropped
        if not all(isinstance(v, (str, int, float, bool)) or v is None for v in value):
            return None
        value = ", ".join(str(v) for v in value if v is not None)
    text = str(value).strip()
    return text or None


def parse_markdown(text: str, name: str) -> tuple[str, dict[str, str | None]]:
    """Split front matter from a Markdown body. Pure; raises ``ArticleError`` on bad YAML."""
    text = normalize(text)
    meta: dict[str, str | None] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            data = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            where = f" (line {line + 2})" if line is not None else ""
            raise ArticleError(f"{name}: invalid front matter{where}; skipped") from None
        if data is not None and not isinstance(data, dict):
            raise ArticleError(f"{name}: front matter is not a mapping of keys to values; skipped")
        meta = {str(k).lower(): _str_or_none(v) for k, v in (data or {}).items()}
        text = text[match.end():]
    h1 = _first_h1(text)
    if not meta.get("title") and h1:
        meta["title"] = h1[0]
    if h1 and h1[0] == meta.get("title"):
        text = text[: h1[1]] + text[h1[2]:]
    return text.strip() + "\n", meta


def _first_h1(text: str) -> tuple[str, int, int] | None:
    """The first ``# Title`` line outside code blocks: its title, start and end (before the
    line break)."""
    lines = text.splitlines(keepends=True)
    pos = 0
    for line, heading in zip(lines, markdown_headings(lines)):
        if heading and len(heading.group(1)) == 1 and line.startswith("#"):
            return heading.group(2).strip(), pos, pos + len(line.rstrip("\n"))
        pos += len(line)
    return None


def _read_pdf(data: bytes, name: str) -> tuple[str, dict[str, str | None]]:
    text = read_pdf_text(data, name)  # in a child process, under time and inflated-size budgets
    raw = "\n\n".join(text.pages)
    if not raw.strip():
        raise ArticleError(f"{name}: PDF has no extractable text (scanned?); skipped")
    body, title = clean_plain_text(raw, _str_or_none(text.title))
    return body, {"title": title, "publisher": _str_or_none(text.author)}


def _read_html(text: str, name: str) -> tuple[str, dict[str, str | None]]:
    """A page's main text: a small page parsed here (well under a second), a larger one in a
    child process under the time budget (``html.parser`` takes seconds per megabyte)."""
    from corpus.html import html_to_article_parts

    if len(text) <= INLINE_HTML_CHARS:
        try:
            return html_to_article_parts(normalize(text))
        except RecursionError:
            raise ArticleError(f"{name}: HTML page nested too deeply to read; skipped") from None
    return read_html_parts(text, name)


def article_from_bytes(data: bytes, source: str) -> Article:
    """Parse one file's bytes into an ``Article``; ``source`` is its corpus-relative path."""
    suffix = Path(source).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"{source}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not data.strip():
        raise ArticleError(f"{source}: empty file; skipped")
    meta: dict[str, str | None]
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise ArticleError(f"{source}: not a PDF file; skipped")
        body, meta = _read_pdf(data, source)
    else:
        text = _decode(data, source)
        if suffix in (".md", ".markdown"):
            body, meta = parse_markdown(text, source)
        elif suffix in (".html", ".htm"):
            body, meta = _read_html(text, source)
            if not body:
                raise ArticleError(f"{source}: HTML page has no main text (only menus or scripts); skipped")
        else:
            body, title = clean_plain_text(text)
            meta = {"title": title}
    if not body.strip() or not blocks(body):  # nothing but headings gives no passage to cite
        raise ArticleError(f"{source}: no article text after cleaning; skipped")
    title = meta.get("title") or Path(source).stem.replace("_", " ").replace("-", " ").strip() or source
    return Article(
        source=source,
        title=title,
        text=body,
        publisher=meta.get("publisher"),
        date=meta.get("date"),
        url=meta.get("url"),
    )


def iter_article_files(root: Path) -> list[Path]:
    """Article files under ``root`` (recursively), sorted; hidden and cache folders skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for fn in sorted(filenames):
            if fn.startswith(".") or Path(fn).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            found.append(Path(dirpath) / fn)
    return found


def _outside_folder_links(root: Path) -> list[str]:
    """Corpus-relative names of symlinked folders that lead outside ``root`` (never followed)."""
    found = []
    real_root = root.resolve()
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for d in dirnames:
            link = Path(dirpath) / d
            if link.is_symlink() and not link.resolve().is_relative_to(real_root):
                found.append(link.relative_to(root).as_posix())
    return found


def load_article(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Read one article file. Raises ``ArticleError`` naming the file when it cannot be used."""
    source = path.relative_to(root).as_posix()
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root.resolve()):
            raise ArticleError(f"{source}: symlink points outside the corpus folder; skipped")
    try:
        if not path.is_file():
            raise ArticleError(f"{source}: not a regular file; skipped")
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(f"{source}: {size:,} bytes is over the {max_bytes:,}-byte limit; skipped")
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"{source}: cannot be read ({exc.strerror or exc.__class__.__name__}); skipped") from None
    return article_from_bytes(data, source)


def load_corpus(root: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> CorpusLoad:
    """Load every supported article under ``root``; unusable files become warnings."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder {root} does not exist or is not a folder")
    articles: list[Article] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    for folder in _outside_folder_links(root):
        warnings.append(f"{folder}/: symlink points outside the corpus folder; skipped")
    for path in iter_article_files(root):
        try:
            article = load_article(path, root, max_bytes)
        except ArticleError as exc:
            warnings.append(" ".join(str(exc).split()))  # one line, whatever the file name holds
            continue
        except Exception as exc:  # noqa: BLE001 - a parser choked: one bad file never stops the rest
            name = " ".join(path.relative_to(root).as_posix().split())
            warnings.append(f"{name}: cannot be parsed ({exc.__class__.__name__}); skipped")
            continue
        key = article.text.strip()
        if key in seen:
            warnings.append(f"{article.source}: same text as {seen[key]}; skipped as a duplicate")
            continue
        seen[key] = article.source
        articles.append(article)
    return CorpusLoad(tuple(articles), tuple(warnings))
