"""Pure cleaning of article text as received: site clutter out, structure in, wording kept.

``clean_plain_text`` turns plain text copied from a web page into light Markdown: lines that
are menus, share buttons, logos, calls to action, addresses or footers are dropped; anything
after a "Related Articles"-style footer is dropped; short title-like lines become ``##``
headings; bullets become ``- `` items. Sentences are never rewritten.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "is_clutter", "is_footer_start", "looks_like_heading", "clean_plain_text"]

_CLUTTER = re.compile(
    r"""^(
        share|contents|table\ of\ contents|menu|home|search|subscribe|sign\ ?in|log\ ?in|
        let[’']s\ (talk|discuss\ your\ project)|contact\ us|read\ more|advertisement|
        .*\bwebsite\ logo|.*\blogo|skip\ to\ (main\ )?content|follow\ us.*|print|tweet|
        share\ (this|on)\b.*|cookie.*|accept(\ all)?(\ cookies)?|all\ rights\ reserved.*|
        ©.*|copyright\ .*|hire\ the\ top\ .*|business\ inquiry:.*|\d+\ min\ read|
        india|canada|usa|uk
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_FOOTER = re.compile(r"^(related\ (articles?|aricles|blogs?|posts?|reading)|you\ may\ also\ like|more\ from\ .*)$", re.I | re.X)
_EMAIL_OR_PHONE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d\s()-]{8,}\d")
_ADDRESS = re.compile(r"\b(\d{3,6}|[A-Z]\d[A-Z]\s?\d[A-Z]\d)\b.*\b(Rd|Road|Ave|Avenue|Street|St|SW|NW|SE|NE|Square|Suite)\b|–\s*\d{5,6}$|^#?\d+[A-Z]?\d*[, ].*\d{3,}")
_BULLET = re.compile(r"^\s*[•▪●◦‣∙·*-]\s+")
_END_PUNCT = (".", "!", "?", ":", ";", ",", "…", "”", '"', "’")


def normalize(text: str) -> str:
    """Unicode NFC, Unix newlines, no control characters other than newline and tab."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def is_clutter(line: str) -> bool:
    """True for a line that is site furniture rather than article text."""
    s = line.strip()
    if not s:
        return False
    if _CLUTTER.match(s):
        return True
    if _EMAIL_OR_PHONE.search(s) and len(s) < 120:
        return True
    if _ADDRESS.search(s) and len(s) < 120 and not s.endswith("."):
        return True
    return False


def is_footer_start(line: str) -> bool:
    """True for a line after which everything is footer ("Related Articles", ...)."""
    return bool(_FOOTER.match(line.strip()))


def looks_like_heading(line: str, next_line: str | None) -> bool:
    """A short line with no closing punctuation, followed by more text, reads as a heading."""
    s = line.strip()
    if not s or len(s) > 100 or _BULLET.match(line) or s.startswith("#"):
        return False
    if s.endswith(_END_PUNCT) and not re.match(r"^\d+\.\s", s):
        return False
    if s.endswith("?") or s.endswith(":"):
        return False
    if next_line is None:
        return False
    words = s.split()
    return 1 <= len(words) <= 14 and (s[0].isupper() or s[0].isdigit())


def shouts(line: str) -> bool:
    """A title set in capitals: two words or more, every letter upper-case."""
    letters = [ch for ch in line if ch.isalpha()]
    return len(line.split()) >= 2 and len(letters) >= 6 and all(ch.isupper() for ch in letters)


def clean_plain_text(raw: str, title: str | None = None) -> tuple[str, str | None]:
    """Clean plain text copied from a web page.

    Returns ``(markdown_body, title)``; the title is a heading-like line that comes before any
    other text, unless one is given (None when the text starts with a paragraph). The title line
    is removed from the body.
    """
    lines = [ln.rstrip() for ln in normalize(raw).split("\n")]
    kept: list[str] = []
    for line in lines:
        if is_footer_start(line):
            break
        if is_clutter(line):
            continue
        kept.append(line)
    # drop a trailing run of lines that are not sentences (calls to action, company names)
    while kept and (not kept[-1].strip() or (len(kept[-1]) < 80 and not kept[-1].strip().endswith((".", "!", "?")))):
        kept.pop()
    nonblank = [i for i, ln in enumerate(kept) if ln.strip()]
    out: list[str] = []
    found_title = title
    run = False  # the previous line was a title-like line taken as a list item
    for pos, i in enumerate(nonblank):
        line = kept[i].strip()
        if not looks_like_heading(line, "x"):
            run = False
        nxt = kept[nonblank[pos + 1]] if pos + 1 < len(nonblank) else None
        if found_title is None and not out and looks_like_heading(line, nxt):
            found_title = line  # only a heading-like line before any text: not "Day 2 - Ropers" mid-story
            continue
        if found_title is not None and line == found_title and not out:
            continue
        bullet = _BULLET.match(kept[i])
        if bullet and not looks_like_heading(line, nxt):
            item = kept[i][bullet.end():].strip()
            if out and out[-1].startswith("- "):
                out.append(f"- {item}")
            else:
                out.extend(["", f"- {item}"])
            continue
        if looks_like_heading(line, nxt):
            # a heading needs text under it: a title-like line right after a lead-in ("...the
            # following:") or another such line, or followed by one, is a list item (as a heading
            # it would head an empty section, and no passage would hold its words)
            before_heading = nxt is not None and looks_like_heading(nxt.strip(), "x")
            # ... except a title in capitals right above prose ("SAME BED DIFFERENT DREAMS BY ED
            # PARK" after a credit line "Image: Random House"): it heads what follows
            titles_prose = shouts(line) and not before_heading
            after_lead = bool(out) and (out[-1].rstrip().endswith(":") or (run and not titles_prose))
            if after_lead or before_heading:
                out.extend([f"- {line}"] if run else ["", f"- {line}"])
                run = True
                continue
            out.extend(["", f"## {line}"])
            run = False
        else:
            out.extend(["", line])
    body = "\n".join(out).strip() + "\n"
    body = re.sub(r"\n{3,}", "\n\n", body)
    return body, found_title
