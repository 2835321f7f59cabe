"""Pure text helpers shared by the chunker and the answer composer: sentence spans."""

from __future__ import annotations

import re

__all__ = ["sentence_spans", "split_sentences"]

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
