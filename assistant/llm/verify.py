"""Citation verification: every generated sentence is checked against the passages, by code.

A sentence's support by a passage is ``0.6 * lexical + 0.4 * semantic``: ``lexical`` is the share
of the sentence's content words (stemmed, stopwords dropped) found in the passage (with its title
and section), ``semantic`` the best cosine between the sentence and one of the passage's sentences
(the same embedding model as retrieval). A passage cannot support a sentence that states a number
the passage does not contain. A sentence is

- ``supported`` when a passage it cites reaches ``threshold`` (citations that do not are dropped),
- ``recited`` when only an uncited passage does (that passage's number replaces the model's),
- ``note`` when it says the passages do not cover something (kept, uncited, not counted),
- ``unsupported`` otherwise — and always for an answer of one void word ("- Nothing", "None.")
  or one that only restates the question ("Yes, Gleam functions are public by default", every
  word the question's: a yes or no the words cannot check): it is removed from the answer, and
  recorded.

Lists: a bullet line (``- item [n]``, ``* …``, ``1. …``) is a sentence of its own, checked like
any other (a one-word item needs only one content word); its marker is kept apart
(``Verified.bullet``). A lead-in line ending with ``:`` ("The monsters encountered are:") that
no passage supports is kept as an uncited ``note`` (``Verified.lead``) when it only restates the
question — all its content words are the question's — so it adds no claim of its own.

Citation numbers outside ``1..len(passages)`` are dropped before anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.citations import CITATION, cited_numbers, drop_invalid_citations
from assistant.models import Passage, SentenceCheck
from corpus.text import sentence_spans
from index.embedding import Embedder

__all__ = ["split_answer_sentences", "split_bullet", "is_note", "numbers_in", "lexical_support", "Verified", "Verifier"]

_PLACEHOLDER = re.compile(r"\s?\[(?:n|N|\d+-\d+)\]")  # "[n]" copied from an instruction: no citation
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+")
_EMPHASIS = re.compile(r"\*\*|__|`")
_LEADING_MARKERS = re.compile(r"^((?:\s*\[\d{1,3}\])+)[.,;:]?\s*")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_YES_NO = re.compile(r"^\W*(?:yes|no)\b[\s,.;:!-]*", re.I)
_CHOICE = re.compile(r"\bor\b", re.I)  # "Is Go or Rust faster?": the answer's words are all the question's
_VOID = re.compile(r"^\W*(?:nothing|none|no|nope|n/?a|unknown|nobody|no one|not (?:mentioned|specified|stated|given|known))\W*$", re.I)
_NOTE = re.compile(
    r"\b(passages?|articles?|sources?|context|texts?|information)\b.{0,80}?"
    r"\b(do(?:es)?\s*n[o’']t|not|never|no)\b.{0,40}?"
    r"\b(contain|mention|say|cover|provide|specify|include|discuss|state|address|give|available|information|details)"
    r"|\b(none|neither)\s+of\s+the\s+(?:[\w-]+\s+){0,2}(passages?|articles?|sources?|texts?)\b.{0,40}?"
    r"\b(contain|mention|say|cover|provide|specify|include|discuss|state|address|give)"
    r"|\bno\s+(information|mention|details?)\b.{0,80}?\b(passages?|articles?|sources?|provided|given)\b"
    # the model speaking of itself or of the question: "I couldn't find ...", "I cannot answer
    # ...", "I don't have enough information", "this question cannot be answered ..."
    r"|\bI\s+(?:could\s*n[o’']t|could\s+not|can\s*n[o’']t|cannot|am\s+unable\s+to|was\s+unable\s+to|do\s*n[o’']t|did\s*n[o’']t)\s+"
    r"(?:\w+\s+)?(find|answer|determine|tell|know|have\s+enough|see)\b"
    r"|\b(question|answer)\s+(cannot|can[’']t|could\s+not)\s+be\s+(answered|found|determined)\b"
    r"|\bnot\s+possible\s+to\s+(determine|tell|answer|say|know)\b"
    r"|\bnot\s+(available|found|given|stated|provided)\s+in\s+the\s+(?:[\w-]+\s+){0,2}(passages?|articles?|sources?|texts?|context)\b",
    re.IGNORECASE,
)


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of generated text; a list item (one line) is one sentence; a marker that
    follows the period (``fast. [1]``) stays with the sentence before it."""
    out: list[str] = []
    for line in text.split("\n"):
        pieces = [line] if _BULLET.match(line) else [line[a:b] for a, b in sentence_spans(line)]
        for piece in pieces:
            lead = _LEADING_MARKERS.match(piece)
            if lead and out:
                out[-1] = out[-1] + " " + lead.group(1).strip()
                piece = piece[lead.end():]
            if split_bullet(piece)[1]:  # not a bare "-"
                out.append(piece.strip())
    return out


def split_bullet(sentence: str) -> tuple[bool, str]:
    """``(is a bullet line, text without the bullet marker and Markdown emphasis)``. Pure."""
    match = _BULLET.match(sentence)
    text = sentence[match.end():] if match else sentence
    return bool(match), _EMPHASIS.sub("", text).strip()


def is_note(sentence: str) -> bool:
    """Does the sentence say the passages do not cover something?"""
    return bool(_NOTE.search(sentence))


def numbers_in(text: str) -> set[str]:
    """Numbers written with digits, without thousands separators or a trailing period."""
    return {m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(text)}


def lexical_support(sentence_tokens: Sequence[str], passage_tokens: set[str]) -> float:
    """Share of the sentence's content tokens that occur in the passage. Pure."""
    tokens = set(sentence_tokens)
    return len(tokens & passage_tokens) / len(tokens) if tokens else 0.0


@dataclass(frozen=True)
class Verified:
    """A checked sentence: ``text`` without markers, the passages (prompt numbers) to cite."""

    check: SentenceCheck
    text: str
    cite: tuple[int, ...]
    quote: str = ""  # the passage sentence that supports it best
    bullet: bool = False  # a list item ("- item [n]")
    lead: bool = False  # a lead-in that restates the question ("The books with dragons are:")


class Verifier:
    """Checks sentences against one question's passages (prompt numbering ``1..len``)."""

    def __init__(
        self,
        passages: Sequence[Passage],
        embedder: Embedder,
        tokenize: Callable[[str], list[str]] | None = None,
        threshold: float = 0.55,
        min_tokens: int = 2,
        question: str = "",
    ):
        if tokenize is None:
            from index.keyword import tokenize_query

            tokenize = tokenize_query
        self.passages = list(passages)
        self.embedder = embedder
        self.tokenize = tokenize
        self.threshold = threshold
        self.min_tokens = min_tokens
        self.question_tokens = set(tokenize(question)) if question else set()
        self.question_numbers = numbers_in(question)
        self.choice = bool(_CHOICE.search(question))
        self._prepared = False

    def _prepare(self) -> None:
        if self._prepared:
            return
        self._tokens = [set(self.tokenize(f"{p.title} {p.section} {p.text}")) for p in self.passages]
        self._numbers = [numbers_in(f"{p.title} {p.section} {p.text}") for p in self.passages]
        self._sentences: list[list[str]] = []
        flat: list[str] = []
        for p in self.passages:
            sents = [p.text[a:b] for a, b in sentence_spans(p.text)] or [p.text]
            self._sentences.append(sents)
            flat.extend(sents)
        vectors = self._embed(flat) if flat else np.zeros((0, 1), dtype=np.float32)
        self._vectors = []
        i = 0
        for sents in self._sentences:
            self._vectors.append(vectors[i : i + len(sents)])
            i += len(sents)
        self._prepared = True

    def _embed(self, texts: list[str]) -> np.ndarray:
        v = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
        return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-9)

    def support(self, body: str, min_tokens: int | None = None) -> list[tuple[float, str]]:
        """``(score, best passage sentence)`` of every passage for a marker-free sentence."""
        self._prepare()
        tokens = self.tokenize(body)
        if len(set(tokens)) < (self.min_tokens if min_tokens is None else min_tokens) or not self.passages:
            return [(0.0, "") for _ in self.passages]
        vec = self._embed([body])[0]
        numbers = numbers_in(body)
        out = []
        for tokens_p, numbers_p, sents, vecs in zip(self._tokens, self._numbers, self._sentences, self._vectors):
            if numbers - numbers_p:
                out.append((0.0, ""))
                continue
            sims = vecs @ vec
            best = int(np.argmax(sims))
            score = 0.6 * lexical_support(tokens, tokens_p) + 0.4 * max(0.0, float(sims[best]))
            out.append((score, sents[best]))
        return out

    def echoes(self, body: str) -> bool:
        """Does the sentence only restate the question — every content word and number its own,
        a "yes" or "no" aside? Such a sentence states nothing the passages could back: a small
        model says "Yes, Gleam functions are public by default" of a passage saying they are
        private, and every word of it is in that passage. A lead-in ("... are:") and the answer
        to a choice ("Go or Rust?") are not echoes."""
        if not self.question_tokens or self.choice or body.endswith(":"):
            return False
        claim = _YES_NO.sub("", body)
        tokens = set(self.tokenize(claim))
        return bool(tokens) and tokens <= self.question_tokens and not (numbers_in(claim) - self.question_numbers)

    def check(self, sentence: str) -> Verified:
        """Verify one generated sentence (with the model's ``[n]`` markers)."""
        valid = range(1, len(self.passages) + 1)
        cited = tuple(cited_numbers(drop_invalid_citations(sentence, valid)))
        bullet, text = split_bullet(_PLACEHOLDER.sub("", sentence))
        body = CITATION.sub("", drop_invalid_citations(text, set())).strip()
        body = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", body))
        if is_note(body):
            return Verified(SentenceCheck(body, "note", cited), body, (), bullet=bullet)
        # says nothing, however often the passage holds its words: "- Nothing", "None."; or only the
        # question back ("Yes, Gleam functions are public by default")
        if _VOID.match(body) or self.echoes(body):
            return Verified(SentenceCheck(body, "unsupported", cited, None, 0.0), body, (), bullet=bullet)
        scores = self.support(body, min_tokens=1 if bullet else None)
        good = [n for n in cited if scores[n - 1][0] >= self.threshold]
        if good:
            best = max(good, key=lambda n: scores[n - 1][0])
            check = SentenceCheck(body, "supported", cited, best, round(scores[best - 1][0], 4))
            return Verified(check, body, tuple(good), scores[best - 1][1], bullet=bullet)
        if scores:
            best = max(range(1, len(scores) + 1), key=lambda n: scores[n - 1][0])
            if scores[best - 1][0] >= self.threshold:
                check = SentenceCheck(body, "recited", cited, best, round(scores[best - 1][0], 4))
                return Verified(check, body, (best,), scores[best - 1][1], bullet=bullet)
            top = round(scores[best - 1][0], 4)
        else:
            top = 0.0
        if not bullet and body.endswith(":") and set(self.tokenize(body)) <= self.question_tokens:
            return Verified(SentenceCheck(body, "note", cited, None, top), body, (), lead=True)
        return Verified(SentenceCheck(body, "unsupported", cited, None, top), body, (), bullet=bullet)
