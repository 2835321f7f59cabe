"""Pure text helpers shared by the chunker, the retriever and the answer composer: sentence spans,
reference lists, in-text citations."""

from __future__ import annotations

import re

__all__ = ["reads_as_references", "sentence_spans", "split_sentences", "without_sources"]

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before
# whitespace and an upper-case letter, digit or opening quote; a newline always ends one
# (bullet lists, short lines).
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*[ \t]+(?=[\"'“‘(\[]?[A-Z0-9])|\n+")
# Abbreviations that end with a period but do not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.", "Mr.", "Dr.", "St.", "No.", "Inc.", "approx.")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text[start:end]``, stripped.

    Spans index into ``text``; whitespace between sentences belongs to no span.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        piece_end = match.start()
        if match.group(0).strip() == "" and "\n" not in match.group(0):
            before = text[cursor:piece_end]
            if before.endswith(_ABBREVIATIONS):
                continue
        # keep closing quotes with the sentence they close
        closing = len(match.group(0)) - len(match.group(0).lstrip("\"'”’)]"))
        _add(text, cursor, piece_end + closing, spans)
        cursor = match.end()
    _add(text, cursor, end, spans)
    return spans


def _add(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings."""
    return [text[a:b] for a, b in sentence_spans(text)]


# A bibliography entry: "... Gurevych. 2019. SentenceBERT: ..." (a year that ends a sentence) and a venue
_ENTRY_YEAR = re.compile(r"\b(?:19|20)\d\d[a-z]?\.(?=\s|$)")
_VENUE = re.compile(r"\b(?:In Proceedings|arXiv|Conference|Association for Computational|pages \d+|abs/\d|Transactions on|Journal of)\b")


def reads_as_references(text: str) -> bool:
    """Is ``text`` a stretch of a paper's reference list (author lists, years, venues) rather than
    prose? At least four entry years or venues per thousand characters, and two entry years or
    one and a venue: "Stardew Valley 1.6.8 was released on 28 April 2024." is prose. Pure."""
    years, venues = len(_ENTRY_YEAR.findall(text)), len(_VENUE.findall(text))
    return (years + venues) * 1000 / max(len(text), 300) >= 4 and (years >= 2 or (years >= 1 and venues >= 1))


_CITED_SOURCE = re.compile(r"\s?\([^()]*\b(?:1[89]|20)\d\d[a-z]?\)")  # "(Asai et al., 2023)": a source, not a claim


def without_sources(text: str) -> str:
    """``text`` without a paper's in-text citations ("(Asai et al., 2023)", "(Lewis et al., 2020b)"):
    they name a source, they state nothing (a year there is no date or number said). Pure."""
    return _CITED_SOURCE.sub("", text)
