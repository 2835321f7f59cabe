"""Citation markers ``[n]`` in answer text. Pure functions."""

from __future__ import annotations

import re

__all__ = ["CITATION", "cited_numbers", "drop_invalid_citations", "attach_citation", "in_prose"]

CITATION = re.compile(r"\[(\d{1,3})\]")


def cited_numbers(text: str) -> list[int]:
    """Distinct citation numbers in order of first appearance."""
    seen: list[int] = []
    for match in CITATION.finditer(text):
        n = int(match.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def drop_invalid_citations(text: str, valid: range | set[int]) -> str:
    """Remove markers whose number is not in ``valid`` (and the space before them)."""
    def repl(match: re.Match[str]) -> str:
        return match.group(0) if int(match.group(2)) in valid else ""

    return re.sub(r"(\s?)\[(\d{1,3})\]", repl, text)


def in_prose(part: str) -> str:
    """A list line set in prose, its marker attached, ends with a period: "... live dashboards
    [1]." (it would run into the next sentence). Pure."""
    return part if re.search(r"[.!?:;…][\"'”’)]*(?:\s\[\d+\])?[.!?:;…]?$", part) else f"{part}."


def attach_citation(sentence: str, n: int) -> str:
    """``"Go is fast."`` -> ``"Go is fast [1]."``; a sentence without end punctuation gets
    the marker appended."""
    s = sentence.rstrip()
    trail = ""
    while s and s[-1] in "\"'”’)":
        trail = s[-1] + trail
        s = s[:-1]
    if s and s[-1] in ".!?":
        return f"{s[:-1]} [{n}]{s[-1]}{trail}"
    return f"{s}{trail} [{n}]"
