"""What a question asks for, and whether the composed answer says it: the rules applied after
the refusal gate (``assistant.evidence``). Nothing in them is fitted.

- a quantity ("How many hit points ...?", "What chunk size ...?") wants a number, said in a
  sentence with a *predicate word* of the question (its content words that are not names), or
  after one; a price ("How much did the trip cost?") an amount of money;
- a name ("Who voices the Emperor?", "What is the name of ...?") wants someone or something
  the question does not name (``evidence.names_new``), said with a predicate word;
- a date or year ("On which exact date ...?") wants one stated;
- a question of degree ("Which Rust framework is fastest?", "How much faster ... than ...?")
  wants the name or number alone: the degree is said in other words ("tops benchmarks").

Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.evidence import answer_sentences, focus_terms, names_new, strip_citations
from corpus.text import without_sources
from index.keyword import tokenize_query

__all__ = ["asks_for_number", "states_number", "asks_for_name", "asks_for_date", "states_date", "unanswered_ask"]

# "how many users", "how much health", "what caliber", "what exact match score", "what chunk
# size": the answer is a number ("how much does it matter?" is not: an auxiliary after "how
# much"; nor "what is the rejection rate metric?": a verb before the noun)
_ASKS_NUMBER = re.compile(
    r"\bhow\s+many\b|\bhow\s+much\s+(?!(?:do|does|did|is|are|was|were|can|could|will|would|should|has|have|had)\b)\w"
    r"|\bwhat\s+(?:caliber|calibre|percentage|proportion)\b"
    r"|\b(?:what|which)\s+(?:(?!is\b|was\b|are\b|were\b|does\b|did\b|do\b)[\w-]+\s+){0,2}(?:score|size|count|accuracy|percentage|speed)\b(?!s)",
    re.I,
)
# "How much did the trip cost?", "What is the price of ...?": the answer is an amount of money
_ASKS_PRICE = re.compile(
    r"\bhow\s+much\b[^?]*\b(?:cost|costs|costed|charge|charges|charged|pay|pays|paid|spend|spends|spent)\b"
    r"|\bwhat(?:\s+(?:is|was|were|are)|['’]s)?\s+the\s+(?:[\w-]+\s+){0,2}(?:price|cost|fee|fare)s?\s+(?:of|for)\b|\bhow\s+(?:expensive|pricey|cheap)\b",
    re.I,
)
# "Which version added multiplayer?", "What release of llmware dropped ...?": a version number answers
_ASKS_VERSION = re.compile(r"\b(?:what|which)\s+(?:[\w-]+\s+)?(?:version|release|update|patch)\b", re.I)
_VERSION = re.compile(r"(?<![\w.])v?\d+(?:\.\d+)+(?![\w.]*\d)|\bv\d+\b|\b(?:version|release|update|patch)\s+\d", re.I)
_PRICE = re.compile(r"[$€£¥₹]\s?\d|\d[\d,.]*\s?[$€£¥₹]|\d[\d,.]*\s*(?:[km]|million|billion)?\s*(?:dollars?|euros?|pounds?|usd|eur|gbp|cents?|bucks|yen|francs?)\b"
                    r"|\bfree\b|\bno\s+charge\b", re.I)  # an amount of money: "€2,400", "300 euros", "free"
_NUMBER = re.compile(
    r"(?<![A-Za-z-])\d|%|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?|millions?|billions?|dozens?|half|twice|double|triple|once)\b",
    re.I,
)

# The answer is a name: "who won …" (an act done: past tense, or "who was elected …"), "who is
# X's sibling", "who is the author of …", "who voices/plays/leads …" (a role one person fills),
# "whose …", "what brand/company of …", "what is the name of …",
# "who is the voice actor for …", "which airline did they …" (one thing, singular: not "which
# books did they …", but "class", "boss"). Not "who uses Go?", "who benefits from …?", "who is
# affected by …?": other present-tense who-questions may ask for a group ("developers", "small
# businesses") as often as for a name.
_PAST = (r"(?:\w+ed|won|wrote|written|made|built|founded|began|begun|led|ran|took|gave|found|became|shot|stole|hid|sang|drew|"
         r"beat|caught|chose|bought|sold|taught|brought|fought|held|left|lost|met|paid|sent|spent|stood|struck|told|woke|wore)")
_ASKS_NAME = re.compile(
    r"^\W*(?:who|whom)\s+(?:(?:was|were|had)\s+(?:\w+\s+)?)?" + _PAST + r"\b"
    r"|^\W*(?:who|whom)\s+(?:is|was|are|were)\b[^?]*['’]s?\s+\w+"
    r"|^\W*(?:who|whom|which\s+(?:actor|actress|person|singer|player))\s+(?:voices|plays|portrays|directs|narrates|sings|hosts|owns|leads|heads|chairs|coaches|captains|manages)\b"
    r"|\bwhat(?:\s+(?:is|was)|['’]s)\s+[^?]*['’]s\s+(?:real\s+|full\s+|first\s+|last\s+|maiden\s+)?name\b"
    r"|^\W*whose\b"
    r"|^\W*(?:who|whom)\s+(?:is|was|are|were)\s+the\s+\w+(?:\s+\w+)?\s+(?:of|behind|for)\b"
    r"|\bwhat(?:\s+(?:is|was|are|were)|['’]s)\s+the\s+names?\s+of\b"
    r"|^\W*which\s+(?:[\w-]+\s+){0,2}?[a-z]+(?<![^s]s)\s+(?:did|does|do|was|were|is|has|had)\s+(?:they|he|she|it|we|you|i|the)\b"
    r"|\bwhat\s+(?:brand|make|company|companies|firm|team)\b",
    re.I,
)
_ASKS_DATE = re.compile(r"\b(?:what|which)\s+(?:(?!is\b|was\b|are\b|were\b|does\b|did\b|do\b)[\w-]+\s+)?(?:date|year|month|decade|century)\b", re.I)
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b{_MONTHS}\s+\d|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}"
                   rf"|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b|\b(?:january|february|march|april|june|july|august|september|october|november|december)\b"
                   r"|\b(?:\w+teenth|twentieth|twenty-first)\s+century\b", re.I)
_ABOUT_NAME = re.compile(r"^\W*(?i:who\s+(?:is|was|are|were))\s+(?:[A-Z][\w'’.-]*\s*)+\??\s*$")

_WHO = re.compile(r"^\W*who\b", re.I)
# a question of several parts, or one that asks for everything about a thing: two questions in one, "... and what/how ...",
# "each", "all", "explain", "describe", "what happened", "how have ... changed over the versions"
_MANY_PARTS = re.compile(r"\?.+\?|\b(?:and|also)\s+(?:what|which|who|how|why|when|where|did|does|is|are)\b|\beach\b|\ball\b|\bexplain\b"
                         r"|\bdescribe\b|\bover\s+(?:the\s+)?(?:versions|updates|years|time)\b|\bsummar|\bwhat\s+happen|\bhow\s+(?:has|have)\b.*\bchanged\b",
                         re.I)


def asks_for_number(question: str) -> bool:
    """True for a question whose answer is a quantity ("How many parameters ...?"). Pure."""
    return bool(_ASKS_NUMBER.search(question))


def states_number(text: str) -> bool:
    """True when ``text`` (citation markers aside) states a number, in digits or words. Pure."""
    return bool(_NUMBER.search(without_sources(strip_citations(text))))


def asks_for_name(question: str) -> bool:
    """True for a question whose answer is someone or something named ("Who won …?", "Who is
    X's sibling?", "What brand of …?"); not for "Who is <Name>?", which asks about the name it
    holds, nor "Who uses Go?", which may ask for a group. Pure."""
    return bool(_ASKS_NAME.search(question)) and not _ABOUT_NAME.match(question)


def asks_who(question: str) -> bool:
    """True for a who-question ("Who is in the family ...?", "who was the emperor before ...?"). Pure."""
    return bool(_WHO.match(question))


def asks_for_parts(question: str) -> bool:
    """True for a question of several parts, or one that asks for the whole of something ("Where did
    it come from and what is it made of?", "what happened with the podcast episode?", "How have the
    penalties changed over the versions?"): its answer takes more than the one closest point. Pure."""
    return bool(_MANY_PARTS.search(question))


def asks_for_date(question: str) -> bool:
    """True for a question whose answer is a date or a year ("On what date was it published?",
    "In which year ...?"); not for "when", which an event can answer ("when the player dies"). Pure."""
    return bool(_ASKS_DATE.search(question))


def states_date(text: str) -> bool:
    """True when ``text`` (citation markers aside) states a year, a month or a date. Pure."""
    return bool(_DATE.search(without_sources(strip_citations(text))))


# "Which Rust framework is fastest?", "How much faster is FastAPI than Django?": a degree is said
# in other words ("Actix Web tops benchmarks", "beats Django ... by up to 300%"), so such a
# question needs a new name or a number, not its predicate words too
_DEGREE = re.compile(r"\b(?:is|are|was|were)\s+(?:the\s+)?(?:\w+est|best|worst|most\s+\w+|least\s+\w+)\b|\bthan\b", re.I)
_PREDICATE_WEIGHT = 0.2  # a question word this specific is a predicate ("voices" 0.55, "hit" 0.21; not "play" 0.13)


_BY_NAME = re.compile(r"\bby\s+[A-Z]")  # "Divine Rivals by Rebecca Ross" says who wrote it
_NOUN_OF_ACT = re.compile(r"(?:ment|tion|sion)s?$", re.I)  # "development" of "developed": the act named, not done


def _predicates(question: str) -> frozenset[str]:
    """The question's own content words that are not names (nor words too rare to be other than
    one: "llmware"): what the asked-for value must be said with ("voices" of "Who voices the
    Emperor?", "hit", "points" of "How many hit points ..."). A who-question's first one only,
    its act: the words after it name whose act ("Who developed stardew valley?": "developed",
    not "stardew", which every sentence of that page holds). Pure."""
    preds = [t.token for t in focus_terms(question) if not t.name and not t.rare and not t.phrase and t.weight >= _PREDICATE_WEIGHT]
    return frozenset(preds[:1] if _WHO.match(question) else preds)


def _said(text: str, question: str) -> set[str]:
    """The tokens of ``text``, but for a noun made from a verb that the question uses as a verb:
    "Who developed Stardew Valley?" is not answered by "after four years of closed development". Pure."""
    asked = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
    words = [w for w in re.findall(r"[\w'’-]+", text) if not (_NOUN_OF_ACT.search(w) and w.lower() not in asked)]
    return set(tokenize_query(" ".join(words)))


def _with_predicate(question: str, answer: str, test: Callable[[str], bool]) -> bool:
    """Does a sentence of ``answer`` pass ``test`` and hold, or follow one that holds, one of the
    question's predicate words ("Many improvements for multiplayer ..." / "You can now have up to
    8 players on PC")? For a who-question, "by <Name>" says the act too. Any sentence passes when
    the question has none. Pure."""
    preds = _predicates(question)
    sentences = answer_sentences(answer)
    agent = bool(_WHO.match(question))
    return any(test(x) and (not preds or preds & _said(" ".join(sentences[max(0, i - 1): i + 1]), question)
                            or (agent and _BY_NAME.search(x) is not None))
               for i, x in enumerate(sentences))


def unanswered_ask(question: str, answer: str, context: str = "") -> str:
    """What the ``answer`` leaves unsaid of what the question asks for, or "":

    - "no_number": a quantity question, and no number said with a predicate word of the question
      ("How many hit points ...?": a number in a sentence with "hit" or "points", or after one);
      a price question, and no amount of money ("two friends" is no price); a question for a
      version ("Which version added multiplayer?"), and no version number said with a predicate;
    - "no_name": a question for a name, and no one new named with a predicate word ("Who voices
      the Emperor?": a new name in a sentence with "voices"; ``context``: the turn before, for a
      follow-up);
    - a question of degree ("fastest", "faster than") needs the number or new name alone: the
      degree is said in other words;
    - "no_date": a question for a date or year, and none stated.

    The rules apply after the gate; nothing in them is fitted. Pure."""
    degree = bool(_DEGREE.search(question))
    if asks_for_number(question) and not (states_number(answer) if degree else _with_predicate(question, answer, states_number)):
        return "no_number"
    if _ASKS_VERSION.search(question) and not _with_predicate(question, answer, lambda x: bool(_VERSION.search(strip_citations(x)))):
        return "no_number"  # "Which version of marimo introduced mo.ui.run_button?": "button [1]" names no version
    if _ASKS_PRICE.search(question) and not _PRICE.search(strip_citations(answer)):  # "How much did the trip cost?": "two friends" is no price
        return "no_number"
    if asks_for_name(question) and not (names_new(answer, question, context)
                                         and (degree or _with_predicate(question, answer, lambda x: names_new(x, question, context)))):
        return "no_name"
    if asks_for_date(question) and not states_date(answer):
        return "no_date"
    return ""
