"""A fetched web page (or PDF, or plain text) as a Markdown article. Pure: no network.

``web_article(data, url, content_type)`` extracts the main text and the metadata (title, site,
date) of bytes that ``assistant.fetch`` fetched; ``WebArticle.markdown()`` is the article file
saved into the corpus folder: YAML front matter the loader reads (``title``, ``publisher`` = the
site, ``date``, ``url``) and the body in light Markdown. HTML goes through ``trafilatura`` (a
maintained main-text extractor), with the loader's own HTML reader as the fallback for pages
it finds too short; PDF and text go through the loader (``article_from_bytes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import yaml

from corpus.clean import normalize
from corpus.errors import ArticleError
from corpus.loaders import article_from_bytes

__all__ = ["HTML_TYPES", "TEXT_TYPES", "PDF_TYPES", "ARTICLE_TYPES", "WebArticle", "web_article", "media_type", "slug"]

HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPES = ("application/pdf",)
TEXT_TYPES = ("text/plain", "text/markdown")
ARTICLE_TYPES = HTML_TYPES + PDF_TYPES + TEXT_TYPES
_MAX_TREE = 500_000  # elements: a page built to exhaust the parser is refused
_MAX_TITLE = 300


@dataclass(frozen=True)
class WebArticle:
    """An article taken from ``url``: its title, body (light Markdown) and metadata."""

    url: str
    title: str
    text: str
    site: str | None = None
    date: str | None = None

    def file_name(self) -> str:
        """The name to save it under: the title as a slug (the URL's when the title gives none)."""
        return (slug(self.title) or slug(_url_words(self.url)) or "web-article") + ".md"

    def markdown(self) -> str:
        """The article file: front matter (title, publisher, date, url), then the body."""
        meta = {"title": self.title, "publisher": self.site, "date": self.date, "url": self.url}
        front = yaml.safe_dump({k: v for k, v in meta.items() if v}, allow_unicode=True, sort_keys=False, width=10_000)
        return f"---\n{front}---\n\n{self.text.strip()}\n"


def media_type(content_type: str | None) -> str:
    """``text/html; charset=utf-8`` -> ``text/html``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str | None) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.I)
    return match.group(1) if match else None


def slug(text: str, limit: int = 80) -> str:
    """Lower-case words joined by ``-`` (letters and digits only), at most ``limit`` characters."""
    words = re.findall(r"\w+", normalize(text).lower())
    out = "-".join(w.strip("_") for w in words if w.strip("_"))
    return out[:limit].rstrip("-")


def _url_words(url: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.path).rstrip("/")
    last = path.rsplit("/", 1)[-1] if path else ""
    last = re.sub(r"\.(html?|php|aspx?|pdf|txt|md)$", "", last, flags=re.I)
    return last or (parts.hostname or "")


def _one_line(value: object, limit: int = _MAX_TITLE) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:limit] or None


def _host(url: str) -> str | None:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


def _from_html(data: bytes, url: str) -> tuple[str | None, str, str | None, str | None]:
    """``(title, body, site, date)`` of an HTML page; body is empty when no main text is found."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            data,
            url=url,
            with_metadata=True,
            include_formatting=True,
            include_comments=False,
            include_tables=True,
            max_tree_size=_MAX_TREE,
        )
    except (ValueError, TypeError, RecursionError, MemoryError):
        doc = None
    if doc is not None and (doc.text or "").strip():
        return _one_line(doc.title), normalize(doc.text), _one_line(doc.sitename, 120), _one_line(doc.date, 40)
    # trafilatura keeps nothing of a short page; the loader's reader (<article>/<main>) may
    try:
        article = article_from_bytes(data, "page.html")
    except ArticleError:
        return None, "", None, None
    return article.title, article.text, article.publisher, article.date


def web_article(data: bytes, url: str, content_type: str | None, title: str | None = None, date: str | None = None) -> WebArticle:
    """The article in ``data`` fetched from ``url``. ``title``/``date`` (e.g. a feed entry's)
    are used when the page gives none. Raises ``ArticleError`` (one line, naming the URL)."""
    kind = media_type(content_type)
    if not data.strip():
        raise ArticleError(f"{url}: the page is empty; nothing saved")
    if kind in HTML_TYPES:
        page_title, body, site, page_date = _from_html(data, url)
        if not body.strip():
            raise ArticleError(f"{url}: no article text found on the page; nothing saved")
    elif kind in PDF_TYPES or kind in TEXT_TYPES:
        if kind in TEXT_TYPES:
            try:
                data = data.decode(_charset(content_type) or "utf-8").encode("utf-8")
            except (LookupError, UnicodeDecodeError):
                raise ArticleError(f"{url}: text that is not in its declared encoding; nothing saved") from None
        name = "page.pdf" if kind in PDF_TYPES else ("page.md" if kind == "text/markdown" else "page.txt")
        try:
            article = article_from_bytes(data, name)
        except ArticleError as exc:
            raise ArticleError(f"{url}: {str(exc).removeprefix(name + ': ').replace('; skipped', '')}; nothing saved") from None
        page_title, body, site, page_date = article.title, article.text, article.publisher, article.date
        if page_title in ("page",):
            page_title = None
    else:
        raise ArticleError(f"{url}: {kind or 'no'} content type is not an article (HTML, PDF or text); nothing saved")
    return WebArticle(
        url=url,
        title=page_title or _one_line(title) or _url_words(url) or url,
        text=body,
        site=site if site and kind in HTML_TYPES else _host(url),
        date=page_date or _one_line(date, 40),
    )
