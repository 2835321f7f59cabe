"""Is a question answerable from the evidence? Its focus terms against what would be cited.

A question's *focus terms* are its content words (stemmed, stopwords out), each weighted by how
specific it is in general English (``wordfreq``'s Zipf frequency: "day", "look", "known" weigh
little; "goblins", "bourbon", "H100" weigh fully). Names (capitalised words past the first,
acronyms, words with digits), number phrases ("day 10", "step 5") and words all but unknown to
general English (Zipf below 2: a misspelling like "relgion", jargon) weigh fully and must occur
in the documents the question is limited to (or the whole collection when it is not limited).

``Evidence`` holds the features a refusal is decided on:

- ``missing_names``: names or number phrases of the question found nowhere in scope;
- ``passage_coverage``: weighted share of focus terms present in the passages that would be
  cited (title and section included);
- ``scope_coverage``: weighted share present anywhere in scope;
- ``relevance``: the best cosine of a passage or sentence to the question.

A question with a missing name or number phrase is refused outright (no question of the two
sets that had one was answerable), as is one whose asked-for kind ("what kind of *pumps*") or
the specific words of the act a why-question takes for granted ("Why did Saga *stab* Scratch?")
are nowhere in scope; otherwise ``answerability(evidence, weights)``, a logistic score over the
coverages and the cosine (weights fitted by cross-validation on three question sets: see
``docs/answers.md``), must reach 0.5. Rules on the composed answer follow (``assistant.asks``:
a quantity question answered with a number, a question for a name with a name it does not hold,
``names_new``). Pure, but for the ``present`` callable that looks terms up in the index.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.keyword import tokenize_query

__all__ = ["Term", "Evidence", "GateWeights", "focus_terms", "gather_evidence", "answerability", "names_new", "holds_names",
           "number_phrases", "specificity", "strip_citations", "answer_sentences"]

_WORD = re.compile(r"[A-Za-z0-9][\w+#.'’-]*")
_SENTENCE_START = re.compile(r"(^|[.!?:;]\s+|[\"“(]\s*)$")
# "why did/does/do X <act> ...": the question takes the act for granted, so its specific words must be
# in the documents ("Why did Saga stab Scratch?" of a page where she shoots him); not "why is/are ..."
_WHY_ACT = re.compile(r"^\W*why\s+(?:did|does|do)\b", re.I)
_ACT_WEIGHT = 0.5  # a word as rare as "stab" (0.74) or "abandon" (0.57); not "make", "ship", "separate" (0.39)
_CITE = re.compile(r"\[\d+\]")
# "what kind of pumps will …", "what brand of bourbon did …": the words up to the verb name the kind
_KIND_OF = re.compile(r"\b(?:what|which)\s+(?:kinds?|types?|sorts?|brands?|makes?)\s+of\s+((?:[\w'’-]+\s+){0,3}?[\w'’-]+)\s*"
                      r"(?:\b(?:is|are|was|were|will|would|can|could|do|does|did|has|have|had|should|must|in|on|for|to|from|that)\b|[?,.]|$)",
                      re.I)


@dataclass(frozen=True)
class Term:
    token: str  # as the keyword index sees it (stemmed, lower-case)
    word: str  # as written in the question
    weight: float  # 0..1: how specific the word is
    name: bool = False  # a name, acronym or number: must occur in scope
    phrase: str = ""  # for numbers: "day 10", looked up as a phrase
    rare: bool = False  # all but unknown to general English (a misspelling, jargon): must occur in scope too
    kind: bool = False  # the kind of thing asked for ("what kind of pumps …"): must occur in scope too
    act: bool = False  # a specific word of the act a why-question presupposes ("why did Saga *stab* Scratch?"): too


@dataclass(frozen=True)
class Evidence:
    terms: tuple[Term, ...]
    missing_names: tuple[str, ...]
    passage_coverage: float
    scope_coverage: float
    relevance: float

    max_missing: float = 0.0  # the weight of the most specific term missing from the passages
    answer_coverage: float = 1.0  # weighted share of focus terms in the composed answer (and its sections)

    def vector(self) -> tuple[float, ...]:
        """The features the gate weighs, in ``GateWeights`` order."""
        return (1.0 if self.missing_names else 0.0, self.passage_coverage, self.scope_coverage, self.relevance, self.max_missing,
                self.answer_coverage)


@dataclass(frozen=True)
class GateWeights:
    """Logistic weights of the refusal gate: bias, missing name, passage coverage, scope
    coverage, relevance, most specific missing term. Defaults: fitted on three question sets
    together — the dev set, the STICI train split and our own questions on the documents that
    split leaves out (questions with a missing name left out: the rule refuses them), a false
    refusal costing three times a missed one (``python -m benchmarks.refusal_cv --pos-cost 3
    --own``; held-out-fold figures in ``docs/answers.md``)."""

    bias: float = -0.50
    missing_name: float = 0.0  # a missing name refuses outright (see ``ExtractiveEngine.answer``)
    passage_coverage: float = 0.41
    scope_coverage: float = 1.00
    relevance: float = 1.21
    max_missing: float = -0.66
    answer_coverage: float = -0.01

    def as_tuple(self) -> tuple[float, ...]:
        return (self.missing_name, self.passage_coverage, self.scope_coverage, self.relevance, self.max_missing, self.answer_coverage)


@lru_cache(maxsize=50_000)
def specificity(word: str) -> float:
    """1 for a rare word, ~0 for the commonest ones (Zipf frequency 3 -> 1, 6 -> 0)."""
    return min(1.0, max(0.0, (6.0 - _zipf(word)) / 3.0))


@lru_cache(maxsize=50_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word.lower(), "en"))


_TYPO_ZIPF = 5.5  # "what", "have", "does", "the": words a slip of the keyboard turns into "waht", "hve"


@lru_cache(maxsize=4096)
def _typo(word: str) -> bool:
    """Is ``word`` one slip (a letter swapped with its neighbour, missing, extra or wrong) from
    one of the commonest English words ("waht", "hve", "teh")? Such a word is no rare term; a
    slip on a rarer word ("relgion") still is. Pure."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1} | {a + b[1:] for a, b in splits if b} \
        | {a + c + b for a, b in splits for c in letters} | {a + c + b[1:] for a, b in splits if b for c in letters}
    return any(_zipf(e) >= _TYPO_ZIPF for e in edits if e != word)


_RARE_ZIPF = 2.0  # "relgion" 1.05; the rarest words of answerable questions of both sets: 2.9-3.2


def _is_name(word: str, sentence_start: bool, title_case: bool) -> bool:
    if any(ch.isdigit() for ch in word):
        return True
    if len(word) >= 2 and word.isupper():
        return True
    return word[0].isupper() and not sentence_start and not title_case


def _bare(word: str) -> str:
    """``word`` without a possessive or trailing punctuation: "Jackie's" -> "Jackie"."""
    return re.sub(r"(['’]s|[.'’-])$", "", word)


def _asked_kind(question: str) -> str:
    """The head word of the kind a question asks for: "pumps" in "What kind of pumps will be
    given …?", "" when it asks for no kind. Pure."""
    match = _KIND_OF.search(question)
    return _bare(match.group(1).split()[-1]).lower() if match else ""


@lru_cache(maxsize=4096)
def focus_terms(question: str) -> tuple[Term, ...]:
    """The question's content words with their weights, names and number phrases. Pure (and
    remembered: one answer asks for the same question's terms many times, once per list item)."""
    out: dict[str, Term] = {}
    previous = ""
    words = [w for w in _WORD.findall(question) if w[0].isalpha()]
    kind = _asked_kind(question)
    why_act = bool(_WHY_ACT.match(question))
    title_case = len(words) >= 3 and sum(w[0].isupper() for w in words) > 0.6 * len(words)  # "What Is The Policy On X?"
    for match in _WORD.finditer(question):
        word = _bare(match.group(0))
        start = bool(_SENTENCE_START.search(question[: match.start()]))
        number = bool(re.fullmatch(r"\d+", word))
        tokens = [word] if number else tokenize_query(word)
        if not word or not tokens:
            previous = ""
            continue
        name = _is_name(word, start, title_case)
        phrase = f"{previous} {word}" if number and previous else word if number else ""
        weight = 1.0 if name else specificity(word)
        if not name and not number and _zipf(word) < _RARE_ZIPF and _typo(word.lower()):
            previous = ""
            continue  # "waht does TARDIS stand for?": a slip on "what" is no word of the question
        rare = not name and not number and len(tokens) == 1 and _zipf(word) < _RARE_ZIPF
        asked = word.lower() == kind
        act = why_act and not name and not number and weight >= _ACT_WEIGHT
        if name and not number:
            tokens = tokens[:1]  # a name is found by its first part: "AK-47" by "ak", "FastAPI-style" by "fastapi"
        for token in tokens:
            if token not in out or weight > out[token].weight:
                out[token] = Term(token, word, weight, name, phrase, rare, asked, act)
        previous = word if not number else ""
    return tuple(out.values())


def number_phrases(question: str) -> list[str]:
    """The question's number phrases, lower-cased: ["day 2"] for "What happens on day 2?". Pure."""
    return [t.phrase.lower() for t in focus_terms(question) if t.phrase and " " in t.phrase]


def gather_evidence(
    question: str,
    passage_texts: Sequence[str],
    relevance: float,
    present: Callable[[Iterable[str]], set[str]],
    answer_text: str | None = None,
) -> Evidence:
    """The gate's features for ``question`` given the passages that would be cited and
    ``present(tokens)``, the tokens found anywhere in scope."""
    terms = focus_terms(question)
    joined = "\n".join(passage_texts)
    in_passages = set(tokenize_query(joined))
    low = joined.lower()
    # numbers are looked up as phrases ("day 2") in the passages: the index drops 1-digit tokens
    in_passages |= {t.token for t in terms if t.phrase and re.search(rf"\b{_spelled(t.phrase.lower())}\b", low)}
    in_scope = present([t.token for t in terms if not t.phrase]) | in_passages
    missing = [t.phrase or t.word for t in terms if (t.name or t.rare or t.kind or t.act) and t.token not in in_scope]
    total = sum(t.weight for t in terms)
    if total <= 0:
        return Evidence(terms, tuple(missing), 1.0, 1.0, relevance)
    return Evidence(
        terms,
        tuple(missing),
        sum(t.weight for t in terms if t.token in in_passages) / total,
        sum(t.weight for t in terms if t.token in in_scope) / total,
        relevance,
        max((t.weight for t in terms if t.token not in in_passages), default=0.0),
        _coverage(terms, answer_text) if answer_text is not None else 1.0,
    )


_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()


def _spelled(phrase: str) -> str:
    """A pattern for a number phrase; a bare number up to twenty matches its word too ("2" finds
    "the two main components"). Pure."""
    escaped = re.escape(phrase)
    return f"(?:{escaped}|{_WORDS[int(phrase)]})" if phrase.isdigit() and int(phrase) <= 20 else escaped


def _coverage(terms: Sequence[Term], text: str) -> float:
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 1.0
    tokens = set(tokenize_query(text))
    low = text.lower()
    found = {t.token for t in terms if t.token in tokens or (t.phrase and re.search(rf"\b{re.escape(t.phrase.lower())}\b", low))}
    return sum(t.weight for t in terms if t.token in found) / total


def strip_citations(text: str) -> str:
    """``text`` without its ``[n]`` markers. Pure."""
    return _CITE.sub("", text)


def answer_sentences(text: str) -> list[str]:
    """The sentences and lines of an answer, its ``[n]`` markers out. Pure."""
    return [x for x in re.split(r"(?<=[.!?])\s+|\n+", strip_citations(text)) if x.strip()]


def names_new(text: str, question: str, context: str = "") -> bool:
    """True when the first sentence of ``text`` (it leads with the answer), or a later one that
    holds one of the question's words, names someone or something the question (and
    ``context``: the turn before, for a follow-up) does not: a capitalised word past a
    sentence's start (not one as common as "Mom"), an acronym, or a capitalised word at a start
    that general English seldom uses. Pure."""
    asked = {_bare(w).lower() for w in _WORD.findall(f"{question} {context}")}
    content = {t.token for t in focus_terms(question) if not t.phrase}
    for i, sentence in enumerate(answer_sentences(text)):
        if i > 0 and not content & set(tokenize_query(sentence)):
            continue
        for match in _WORD.finditer(sentence):
            word = _bare(match.group(0))
            if not word or not word[0].isalpha() or word.lower() in asked or word == "I":
                continue
            start = bool(_SENTENCE_START.search(sentence[: match.start()]))
            if (len(word) >= 2 and word.isupper()) or (word[0].isupper() and _zipf(word) < (4.5 if start else 5.0)):
                return True
    return False


def holds_names(question: str, text: str) -> bool:
    """True when ``text`` holds every name of the question ("Go" of "Which companies use Go at
    their scale?"). A name that is also a common word ("Go", "Rust") must stand as written —
    "go for NestJS" does not name Go; others are matched as the keyword index matches words
    ("bling-phi-3" names "Phi-3"). Pure."""
    tokens: frozenset[str] | None = None
    for term in focus_terms(question):
        if not term.name or term.phrase:
            continue
        if specificity(term.word) < 0.5:
            if not re.search(rf"(?<![\w-]){re.escape(term.word)}(?![\w-])", text):
                return False
            continue
        tokens = tokens if tokens is not None else frozenset(tokenize_query(text))
        if term.token not in tokens:
            return False
    return True


def answerability(evidence: Evidence, weights: GateWeights) -> float:
    """Probability-like score (0..1) that the evidence answers the question. Pure."""
    z = weights.bias + sum(w * x for w, x in zip(weights.as_tuple(), evidence.vector()))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
