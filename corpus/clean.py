"""Pure cleaning of article text as received: site clutter out, structure in, wording kept.

``clean_plain_text`` turns plain text copied from a web page into light Markdown: lines that
are menus, share buttons, logos, calls to action, addresses or footers are dropped; anything
after a "Related Articles"-style footer is dropped; short title-like lines become ``##``
headings; bullets become ``- `` items. Sentences are never rewritten.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["SPEAKER", "normalize", "is_clutter", "is_footer_start", "looks_like_code", "looks_like_heading", "clean_plain_text", "unwrap"]

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
# a phone number is "+<country> ..." or "(306) 555-0199" / "306-555-0199"; not a date ("2020-09-07")
_EMAIL_OR_PHONE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+(?![\w.]*:)|\+\d[\d\s()-]{8,}\d|(?<![\d-])\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\d-])")
# a street address or a postcode line; a line that merely starts with a number and holds a year
# ("8 Dec 2023: llmware v0.1.11", "7 December 2021 (announcement)") is text
_ADDRESS = re.compile(r"\b(\d{3,6}|[A-Z]\d[A-Z]\s?\d[A-Z]\d)\b.*\b(Rd|Road|Ave|Avenue|Street|St|SW|NW|SE|NE|Square|Suite)\b|–\s*\d{5,6}$")
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
    if s.endswith("?") or s.endswith(":") or _CODE.search(s) or SPEAKER.match(s):  # a question, a lead-in, code, a turn
        return False
    if re.fullmatch(r"\d{1,3}", s):  # a page number; "1.6.8" (a version) is a heading
        return False
    if next_line is None:
        return False
    words = s.split()
    return 1 <= len(words) <= 14 and (s[0].isupper() or s[0].isdigit())


def shouts(line: str) -> bool:
    """A title set in capitals: two words or more, every letter upper-case."""
    letters = [ch for ch in line if ch.isalpha()]
    return len(line.split()) >= 2 and len(letters) >= 6 and all(ch.isupper() for ch in letters)


_TERMINAL = (".", "!", "?", ":", ";")
SPEAKER = re.compile(r"^[A-Z][A-Z0-9 .'’-]{0,30}:\s+(?=\S)")  # a transcript's turn: "RUBY: Oh, it stinks"
_HASH_LINE = re.compile(r"^#{1,6}[ \t]+")  # what Markdown would read as a heading
_SECTION_NUMBER = re.compile(r"^\d{1,2}(\.\d{1,2})+\s+[A-Z]")  # "4.1 Search & Ranking"


def hard_wrapped(lines: list[str]) -> bool:
    """Text cut into lines at a fixed width (a PDF's text, an e-mail): many of its lines go on
    with a lower-case word, which no sentence, heading or list item starts with. Pure."""
    pairs = [(a.strip(), b.strip()) for a, b in zip(lines, lines[1:]) if a.strip() and b.strip()]
    goes_on = sum(b[:1].islower() and _prose(a) and _prose(b) for a, b in pairs)
    return goes_on >= 5 and goes_on >= 0.2 * len(pairs)


_CODE = re.compile(r"[={}<>`|]|\w\(|^\s*(import|def|fn|pub|const|var|#include)\s")
_CODE_START = re.compile(r"^\s*(class|def|for|if|elif|else|while|with|try|except|async|match|case)\b.*:\s*$")  # a block opener


def looks_like_code(line: str) -> bool:
    """A line of code ("class Attention(nn.Module):", "let x = 1"), not of prose. Pure."""
    return bool(_CODE.search(line)) or bool(_CODE_START.match(line))


def _prose(line: str) -> bool:
    """A line of running text, not code ("let x = 1", "print(x)") nor a list item."""
    return len(line.split()) >= 2 and not _CODE.search(line) and not _BULLET.match(line)


def _goes_on(last: str, line: str, width: int) -> bool:
    """Does ``line`` continue the sentence of ``last``? It starts in lower case, or ``last``
    ends in a comma, or fills the width and stops mid-sentence (before a capital: "It outlines
    / RAG's evolution")."""
    if line[:1].islower() or last.endswith(","):
        return True
    return len(last) >= 0.7 * width and not last.endswith(_TERMINAL) and last[-1:].isalnum()


def unwrap(lines: list[str]) -> list[str]:
    """Hard-wrapped lines joined back into paragraphs, so that a paragraph is one line as in
    web text (a line that goes on with a lower-case word, or that fills the width and stops
    mid-sentence, continues the line before); text that is not hard-wrapped comes back as
    is. Words are never changed. Pure."""
    if not hard_wrapped(lines):
        return lines
    lengths = sorted(len(x.strip()) for x in lines if x.strip())
    width = lengths[len(lengths) // 2]
    out: list[str] = []
    last = ""  # the last raw line joined
    for line in lines:
        s = line.strip()
        if out and _prose(last) and _prose(s) and _goes_on(last, s, width):
            glue = "" if last.endswith("-") and s[:1].islower() else " "
            out[-1] = out[-1].rstrip() + glue + s
        else:
            out.append(line)
        last = s
    return out


_ASKING = re.compile(r"^(what|what's|how|why|when|who|which|where|is|are|can|do|does|will|should|would|could|did|was|were|has|have)\b"
                     r"[^?]{4,140}\?$", re.I)
FAQ_MIN = 3  # question lines that make a page a list of questions and answers


def _title_case(line: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", line) if len(w) > 3]
    return len(words) >= 2 and all(w[0].isupper() for w in words)


def question_headings(lines: list[str]) -> set[int]:
    """Indexes of ``lines`` (non-blank, stripped) that head an answer: a question on a line of
    its own ("What are the penalties for infringement?") with a paragraph, not another question,
    after it and none before it. On a page with ``FAQ_MIN`` of them (a Q&A page) they all head
    sections; elsewhere only one set in title case ("What Do The Scenes In Infrared Signify?")
    does: a question alone in running text is rhetorical ("How could he still love me?"). Pure."""
    def asking(i: int) -> bool:  # "What is NVLink?", "I have no money. What can I do?"
        s = lines[i]
        last = re.split(r"(?<=[.!])\s+", s)[-1]
        return bool(_ASKING.match(last)) and s.endswith("?") and len(s.split()) <= 25 and not SPEAKER.match(s)

    found = [i for i in range(len(lines) - 1)
             if asking(i) and not (i > 0 and asking(i - 1)) and not lines[i + 1].endswith("?")
             and len(lines[i + 1]) >= 40 and not _BULLET.match(lines[i + 1])]
    if len(found) >= FAQ_MIN:
        return set(found)
    return {i for i in found if _title_case(lines[i])}


def _beside_code(kept: list[str], nonblank: list[int], pos: int) -> bool:
    """Is the non-blank line ``pos`` next to a line of code or a code comment (before or after it)?"""
    near = [kept[nonblank[p]].strip() for p in (pos - 1, pos + 1) if 0 <= p < len(nonblank)]
    return any((looks_like_code(x) and not _HASH_LINE.match(x)) or (_HASH_LINE.match(x) and not looks_like_heading(_HASH_LINE.sub("", x), "x"))
               for x in near)


def clean_plain_text(raw: str, title: str | None = None) -> tuple[str, str | None]:
    """Clean plain text copied from a web page.

    Returns ``(markdown_body, title)``; the title is a heading-like line that comes before any
    other text, unless one is given (None when the text starts with a paragraph). The title line
    is removed from the body.
    """
    lines = unwrap([ln.rstrip() for ln in normalize(raw).split("\n")])
    total = sum(len(x) + 1 for x in lines)
    kept: list[str] = []
    seen = 0
    for line in lines:
        # a footer ("Related Posts") ends the article only in its second half: the same words in
        # a table of contents at the top must not cut the article there
        if is_footer_start(line) and seen >= total / 2:
            break
        seen += len(line) + 1
        if is_clutter(line):
            continue
        kept.append(line)
    # drop a trailing run of a few lines that are not sentences (calls to action, company names);
    # not code (a cheat sheet ends in it) and not a sentence in brackets or quotes
    dropped = 0
    while kept and (not kept[-1].strip() or (len(kept[-1]) < 80 and dropped < 8 and not looks_like_code(kept[-1])
                                             and not kept[-1].strip().rstrip(")]\"'”’").endswith((".", "!", "?")))):
        dropped += bool(kept.pop().strip())
    nonblank = [i for i, ln in enumerate(kept) if ln.strip()]
    out: list[str] = []
    found_title = title
    run = False  # the previous line was a title-like line taken as a list item
    asked = question_headings([kept[i].strip() for i in nonblank])
    for pos, i in enumerate(nonblank):
        line = kept[i].strip()
        if pos in asked:  # a Q&A page's question heads its answer
            out.extend(["", f"## {line}"])
            run = False
            continue
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
            # ... except a title in capitals or a numbered section's title right above prose ("SAME
            # BED DIFFERENT DREAMS BY ED PARK" after a credit line "Image: Random House", "4.1
            # Search & Ranking" after "4 Retrieval"): it heads what follows
            titles_prose = (shouts(line) or bool(_SECTION_NUMBER.match(line))) and not before_heading
            after_lead = bool(out) and (out[-1].rstrip().endswith(":") or (run and not titles_prose))
            if after_lead or before_heading:
                out.extend([f"- {line}"] if run else ["", f"- {line}"])
                run = True
                continue
            out.extend(["", f"## {line}"])
            run = False
        elif _HASH_LINE.match(line) and (not looks_like_heading(_HASH_LINE.sub("", line), nxt) or _beside_code(kept, nonblank, pos)):
            # a code comment ("# works also for for-loops", "# This outputs a timer" between two
            # lines of code), not a heading
            out.extend(["", f"`{line}`"])
        else:
            out.extend(["", line])
    body = "\n".join(out).strip() + "\n"
    body = re.sub(r"\n{3,}", "\n\n", body)
    return body, found_title
