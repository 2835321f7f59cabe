"""Pure extraction of an article's main text from HTML: menus, headers and footers out."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

__all__ = ["html_to_article_parts", "strip_heavy"]

_DROP_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "button", "template"]
_DROP_HINT = re.compile(r"(^|[-_ ])(nav|navbar|menu|breadcrumb|share|sharing|social|related|footer|header|cookie|sidebar|subscribe|newsletter|advert|ads|comments?)([-_ ]|$)", re.I)
_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre"]


_HEAVY = ("script", "style", "svg", "noscript", "template")
_OPEN = re.compile(r"<(script|style|svg|noscript|template)\b|<!--", re.I)


def strip_heavy(html: str) -> str:
    """``html`` without its scripts, styles, SVG, templates and comments (dropped from the text
    anyway; often most of a page's bytes). Linear in the length: each block is cut at the first
    closing tag after it, and an unclosed one runs to the end, as in a browser. Pure."""
    out: list[str] = []
    lower = html.lower()
    pos = 0
    while True:
        m = _OPEN.search(html, pos)
        if m is None:
            out.append(html[pos:])
            break
        out.append(html[pos : m.start()])
        closing = "-->" if m.group(0) == "<!--" else f"</{m.group(1).lower()}"
        end = lower.find(closing, m.end())
        if end < 0:
            break
        close = lower.find(">", end) if closing != "-->" else end + 2
        if close < 0:
            break
        pos = close + 1
    return "".join(out)


def _meta(soup: BeautifulSoup, *names: str) -> str | None:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if isinstance(tag, Tag) and tag.get("content"):
            return str(tag["content"]).strip() or None
    return None


def html_to_article_parts(html: str) -> tuple[str, dict[str, str | None]]:
    """Return ``(markdown_body, metadata)`` of an HTML page's main text.

    Metadata keys: ``title``, ``publisher``, ``date``, ``url``. The body is empty when the page
    has no main text (for example, only menus).
    """
    soup = BeautifulSoup(strip_heavy(html), "html.parser")
    meta = {
        "title": _meta(soup, "og:title", "twitter:title"),
        "publisher": _meta(soup, "og:site_name", "publisher", "author"),
        "date": _meta(soup, "article:published_time", "date", "pubdate", "dc.date"),
        "url": _meta(soup, "og:url"),
    }
    if meta["title"] is None and soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip() or None
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.attrs is None:
            continue
        hints = " ".join([*(tag.get("class") or []), str(tag.get("id") or ""), str(tag.get("role") or "")])
        if hints.strip() and _DROP_HINT.search(hints) and tag.name not in ("body", "html", "main", "article"):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    lines: list[str] = []
    h1 = root.find("h1") if isinstance(root, Tag) else None
    if isinstance(h1, Tag) and h1.get_text(strip=True):
        meta["title"] = h1.get_text(" ", strip=True)
    for el in root.find_all(_BLOCKS):
        if el.find_parent(_BLOCKS):
            continue  # nested block already taken with its parent
        text = re.sub(r"\s+", " ", el.get_text(" ", strip=True)).strip()
        if not text:
            continue
        if el.name == "h1" and text == meta["title"]:
            continue
        if el.name and el.name[0] == "h" and el.name[1:].isdigit():
            lines.extend(["", f"{'#' * max(2, int(el.name[1:]))} {text}"])
        elif el.name == "li":
            lines.append(f"- {text}")
        else:
            lines.extend(["", text])
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not any(ln and not ln.startswith("#") for ln in body.split("\n")):
        body = ""
    return (body + "\n" if body else ""), meta
