"""Choosing sentences for an extractive answer: candidates, repeats, lead-ins and their items,
labels and question headings. Pure functions over text; the engine (``assistant.extractive``)
scores and composes with them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.models import Passage
from corpus.chunking import SUBSECTION
from corpus.clean import shouts

__all__ = ["ARTICLE_MARKER", "CONTINUES", "PRONOUN_START", "Candidate", "asks", "is_label", "labels", "lead_in_items",
           "defined_term", "defines", "overlaps", "phrase_match", "same_sentence", "select_sentences", "span_of", "version_match", "versions_in",
           "with_section", "under_heading", "orphan"]

ARTICLE_MARKER = re.compile(r"\s?\[\s*\d{1,3}\s*\]")
PRONOUN_START = re.compile(r"^(it|its|it’s|it's|they|their|them|this|these|that|those|both|such|he|she|his|her)\b", re.I)
# a sentence that leans on the one before: it starts with a pronoun or a link word, or with a short
# phrase and then one ("By employing critique tokens, this approach evaluates ...")
CONTINUES = re.compile(r"^(it|its|it’s|it's|they|their|this|these|those|he|she|his|her|both|however|but|also|then|so|instead|here|there)\b"
                       r"|^[^.,;:!?]{3,60},\s+(it|they|this|these|such|this\s+\w+)\s+\w+", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+")



@dataclass(frozen=True)
class Candidate:
    passage: int  # index into the passages list
    text: str
    score: float
    tokens: frozenset[str]
    position: int  # sentence number inside its passage
    start: int = 0  # span inside the passage text
    end: int = 0
    similarity: float = 0.0


def overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage == b.passage and a.start < b.end and b.start < a.end


def same_sentence(a: Candidate, b: Candidate) -> bool:
    x, y = _plain(a.text), _plain(b.text)
    return overlaps(a, b) or x in y or y in x


def _plain(text: str) -> str:
    """Text compared for repeats: list markers, case and spacing aside."""
    return " ".join(text.lstrip("-*•· ").split()).lower()


def select_sentences(
    candidates: Sequence[Candidate],
    question_tokens: frozenset[str],
    limit: int,
    max_chars: int = 700,
    ratio: float = 0.72,
    new_passage_penalty: float = 0.05,
    chosen: Sequence[Candidate] = (),
    redundant: Callable[[Candidate, Sequence[Candidate]], bool] | None = None,
) -> list[Candidate]:
    """Greedy choice: the best sentence (or ``chosen``), then others close to it in score that
    add question words; none that ``redundant(c, picked)`` says repeats what is picked. Pure
    (``redundant`` aside)."""
    if not candidates:
        return list(chosen)
    ranked = sorted(candidates, key=lambda c: -c.score)
    best = ranked[0]
    picked = list(chosen) or [best]
    covered = set().union(*(c.tokens & question_tokens for c in picked))
    length = sum(len(c.text) for c in picked)
    while len(picked) < limit:
        def gain(c: Candidate) -> float:
            new = len((c.tokens & question_tokens) - covered)
            spread = 0.0 if any(c.passage == x.passage for x in picked) else new_passage_penalty
            return c.score + 0.08 * new - spread

        rest = [c for c in ranked if not any(same_sentence(c, x) for x in picked)]
        if redundant is not None:
            rest = [c for c in rest if not redundant(c, picked)]
        if not rest:
            break
        nxt = max(rest, key=gain)
        if gain(nxt) < ratio * best.score or length + len(nxt.text) > max_chars:
            break
        picked.append(nxt)
        covered |= nxt.tokens & question_tokens
        length += len(nxt.text)
    return picked


def lead_in_items(text: str, max_items: int = 10, max_item_chars: int = 300) -> list[str]:
    """The items that follow a lead-in ("... the following:"): the next lines or short
    paragraphs, until a long paragraph or ``max_items``. Pure."""
    items: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#") or len(line) > max_item_chars:
            break
        items.append(_BULLET.sub("", line))
        if len(items) >= max_items:
            break
    return items


def is_label(line: str) -> bool:
    """A short title-like line of its own ("Day 2 - Ropers"): no end punctuation, 2-8 words."""
    words = line.split()
    return "\n" not in line and 2 <= len(words) <= 8 and not re.search(r"[.!?,;]$", line.strip())


_DEFINE_Q = re.compile(r"^\s*(?:what|who)(?:['’]s|s|\s+is|\s+are|\s+was|\s+were)\s+(?:an?\s+|the\s+)?([\w'’.+#-]+(?:\s+[\w'’.+#-]+){0,2}?)\s*\??\s*$", re.I)


_NOT_TERM_END = frozenset("for of to in on at about with from like by as known used made meant good better best done".split())


def defined_term(question: str) -> str:
    """The term a "What is X?" / "What's X?" question asks to define ("txakoli"), else "". Pure."""
    m = _DEFINE_Q.match(question)
    if not m or m.group(1).split()[-1].lower() in _NOT_TERM_END:  # "What is Karpathy known for?"
        return ""
    return re.sub(r"^[\w.-]+['’]s\s+(?=\w)", "", m.group(1).lower())  # "llmware's DRAGON models": the models


def defines(sentence: str, term: str) -> bool:
    """Does ``sentence`` define ``term``: "X (a white wine ...)", "X, a ...", "X is a/the ...",
    "X refers to/means ...", "... called/known as X"? Pure."""
    if not term:
        return False
    t = re.escape(term[:-1] if term.endswith("s") and not term.endswith("ss") else term) + r"s?"
    t += r"(?:\s+(?:series|family|line|class))?"  # "DRAGON model series: Production-grade ..." defines "DRAGON models"
    return bool(re.search(rf"\b{t}\s*(?:\(\s*(?:an?|the)\s|,\s+(?:an?|the|which|where)\s|[—–:=]\s*(?:an?|the)?\s*\w"
                          rf"|\s+(?:is|are|was|were)\s+(?:an?|the|one|when|where)\s|\s+(?:refers?\s+to|means|stands\s+for)\b)"
                          rf"|\b(?:called|known\s+as|named)\s+(?:the\s+)?{t}\b", sentence, re.I))


def phrase_match(section: str, sentence: str, phrases: Sequence[str]) -> float:
    """+1 when the sentence (or else its section) holds one of the question's number phrases
    ("day 2"), -1 when the sentence names another number of the same word ("Day 3 ..."), else 0."""
    score = 0.0
    for ph in phrases:
        word, _, number = ph.rpartition(" ")
        others = {m for m in re.findall(rf"\b{re.escape(word)}\s+(\d+)\b", sentence.lower())}
        if number in others:
            return 1.0
        if others:
            score = -1.0
        elif re.search(rf"\b{re.escape(ph)}\b", section.lower()):
            score = max(score, 1.0)
    return score


# "1.6.8", "v0.1.11", "version 2.0" (a bare "2.0" or "0.5" may be any number)
_VERSION = re.compile(r"(?<![\w.])v?(\d+(?:\.\d+){2,3})(?![\w]|\.\d)|\b(?:version|release|v)\s?(\d+\.\d+)(?![\w]|\.\d)", re.I)


def versions_in(text: str) -> set[str]:
    """The version numbers a text names ("1.6.8", "v0.1.11" as "0.1.11", "version 2.0"). Pure."""
    return {a or b for a, b in _VERSION.findall(text)}


def version_match(section: str, sentence: str, asked: set[str]) -> float:
    """+1 when the sentence or its section ("1.6.8 › Bug fixes") names a version the question
    asks about (under 1.6.8, "Fixes a crash introduced in 1.6.7" is about 1.6.8), -1 when they
    name only others ("What changed in 1.6.8?" is not answered by "1.6.6 was released on ..."
    nor by a fix under "1.6.2 › Bug fixes"), else 0."""
    if not asked:
        return 0.0
    named, under = versions_in(sentence), versions_in(section)
    if (named | under) & asked:
        return 1.0
    return -1.0 if named or under else 0.0


# a sentence that tells the reader what to do: "Use functools to cache ...", "1. Set a power limit ..."
_INSTRUCTION = re.compile(
    r"^\W*(?:\d{1,2}[.)]\s+)?(?:use|create|set|add|run|install|click|open|select|import|call|pass|make|define|wrap|decorate|replace|"
    r"write|type|enter|choose|press|put|turn|try|check|remove|change|enable|disable|configure|reference|build|start|stop|keep|"
    r"avoid|connect|apply|download|save|load|update|specify|include|insert|copy|move|drag|follow|attach|plug|limit|lower|raise|"
    r"increase|reduce|buy|get|go|place|mount|cache|store|return|declare|assign|annotate|comment|prefix|mark|tag|register|"
    r"schedule|refresh)\b(?!\s+(?:case|cases)\b)",
    re.I,
)


def instructs(sentence: str) -> bool:
    """A sentence that says what to do ("Use functools to cache function outputs"), the answer
    to a how-to question; not a heading like "Use cases". Pure."""
    return bool(_INSTRUCTION.match(sentence)) and not is_label(sentence)


_INTERROGATIVE = re.compile(r"^[\"“'‘(]?(what|why|how|who|whom|whose|when|where|which|do|does|did|is|are|was|were|can|could|should|would|will|have|has)\b", re.I)


def asks(sentence: str) -> bool:
    """A sentence that asks ("What do the scenes signify?"), not one that merely ends in "?"."""
    return sentence.rstrip("\"'”’) ").endswith("?") and bool(_INTERROGATIVE.match(sentence.strip()))


def labels(text: str) -> set[str]:
    return {line.strip() for line in text.split("\n") if is_label(line.strip())}


def span_of(text: str, sentence: str, after: int) -> tuple[int, int]:
    at = text.find(sentence, after)
    return (at, at + len(sentence)) if at >= 0 else (after, after)


def with_section(text: str, passage: Passage) -> str:
    """A list item prefixed with its passage's section when the section names something the
    sentence does not (a book's title above its review)."""
    section = passage.section.strip()
    if not section or section == passage.title or section.lower() in text.lower() or len(section.split()) > 6:
        return text
    return f"{_title_case(section) if shouts(section) else section}: {text}"


def under_heading(part: str, passage: Passage) -> str:
    """``part`` after its section's own heading, when that names what its pronoun stands for
    ("Node.js: It is ideal for real-time apps [1]."); not after a heading that asks. Pure."""
    leaf = passage.section.split(SUBSECTION)[-1].strip()
    return part if not leaf or asks(leaf) else with_section(part, replace(passage, section=leaf))


def orphan(c: Candidate, chosen: Sequence[Candidate]) -> bool:
    """A sentence that opens with a pronoun whose sentence before is not among ``chosen``: a
    list line ("- It is ideal for real-time apps" under "Node.js") or a chunk's first. Pure."""
    return bool(PRONOUN_START.match(c.text)) and not any(x.passage == c.passage and x.position == c.position - 1 for x in chosen)


_SMALL = frozenset("a an and as at by for in of on or the to with".split())


def _title_case(title: str) -> str:
    """A title set in capitals, as a title ("LOKI BY MELVIN BURGESS" -> "Loki by Melvin Burgess")."""
    words = title.lower().split()
    return " ".join(w if i and w in _SMALL else w[:1].upper() + w[1:] for i, w in enumerate(words))


def each_side(candidates: Sequence[Candidate], chosen: Sequence[Candidate], sides: Sequence[re.Pattern[str]],
              sections: Sequence[str], per_side: int = 1) -> list[Candidate]:
    """For a comparison within one document ("How is error handling different in Gleam compared
    to Python?"): the best candidates about each side, until ``per_side`` chosen sentences are
    about it — a sentence about a side names it and not the other, or sits under a heading that
    names it ("Try › Python"). ``sides``: each side's name as a pattern; ``sections``: each
    passage's. Pure."""
    def about(c: Candidate, i: int) -> bool:
        leaf = sections[c.passage].split(SUBSECTION)[-1]
        others = any(side.search(c.text) for j, side in enumerate(sides) if j != i)
        return not others and bool(sides[i].search(c.text) or sides[i].search(leaf))

    out: list[Candidate] = []
    for i in range(len(sides)):
        while sum(about(c, i) for c in [*chosen, *out]) < per_side:
            best = max((c for c in candidates if about(c, i) and not any(same_sentence(c, x) for x in [*chosen, *out])),
                       key=lambda c: c.score, default=None)
            if best is None:
                break
            out.append(best)
    return out
