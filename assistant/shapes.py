"""The shape of a question: factoid, list, comparison, collection-wide or summary of one article.

A rule-based, pure classifier. The rules look only at the question's grammar (question words,
plural nouns, "compare"/"vs", "summarize", words that point at the set of articles), never at the
names in the corpus, so they apply to any collection. Anything the rules do not recognise is a
``factoid``: the engine's ordinary answer.

- ``summary``: "Summarize the article about X", "Give me an overview of X", "TL;DR of X",
  "What are the key points of the article on X?" — ``target`` is X.
- ``comparison``: "Compare A and B", "A vs B", "difference between A and B", "How does A differ
  from B?", "Should I use A or B?" — ``sides`` is (A, B).
- ``collection``: questions about the set of articles — "What do the articles say about X?",
  "Which frameworks do the articles recommend most often?", "What trends ...?", "Do the articles
  agree ...?", "Which articles mention X?", "What are the pros and cons of X?" — ``entity`` is
  the plural noun asked for, if any ("frameworks").
- ``list``: questions asking for several items — "What are the ...s", "Which <plural noun> ...",
  "What are all ...", "List ...", "Name the ..." — ``entity`` as above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SHAPES", "Shape", "classify", "PROS_CONS"]

SHAPES = ("factoid", "list", "comparison", "collection", "summary")


@dataclass(frozen=True)
class Shape:
    """What a question asks for. ``sides``: a comparison's two subjects; ``target``: the text
    naming the article to summarize; ``entity``: the plural noun a list/collection question asks
    for ("frameworks"), lower-cased, empty when there is none."""

    name: str = "factoid"
    sides: tuple[str, ...] = ()
    target: str = ""
    entity: str = ""


_FLAGS = re.IGNORECASE

# --- summary ---------------------------------------------------------------------------------
_SUMMARY = [
    re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:summari[sz]e|sum up|recap|outline|give\s+(?:me\s+)?(?:the\s+)?gist of)\s+(?P<t>.+)$", _FLAGS),
    re.compile(r"^(?:please\s+)?(?:give|write|provide|show)\s+(?:me\s+|us\s+)?(?:a|an|the)\s+(?:short\s+|brief\s+|quick\s+)?(?:summary|overview|synopsis|recap|tl;?\s?dr)\s+(?:of|for)\s+(?P<t>.+)$", _FLAGS),
    re.compile(r"^(?:what(?:'s| is)\s+)?(?:a\s+|the\s+)?(?:summary|synopsis|tl;?\s?dr)\s+(?:of|for)\s+(?P<t>.+)$", _FLAGS),
    re.compile(r"^tl;?\s?dr:?\s+(?P<t>.+)$", _FLAGS),
    re.compile(r"^what\s+(?:are|were)\s+the\s+(?:key|main|central|most important)\s+(?:points|ideas|takeaways|arguments|messages|topics|themes)\s+(?:of|in|from|covered\s+in|discussed\s+in)\s+(?P<t>(?:the|this|that)\s+(?:article|post|page|guide|document|piece)\b.*)$", _FLAGS),
    re.compile(r"^what\s+(?:is|does)\s+(?P<t>the\s+(?:article|post|page|guide|document|piece)\s+(?:about|on|titled|called)\s+.+?)\s+(?:about|say)$", _FLAGS),
    re.compile(r"^what\s+(?:is|does)\s+(?P<t>(?:this|the)\s+(?:article|post|page|guide|document|piece))\s+(?:about|say)$", _FLAGS),
]
_TARGET_LEAD = re.compile(
    r"^(?:(?:the|this|that|an?)\s+)?(?:(?:article|post|page|guide|document|piece|text)s?\s+)?(?:(?:about|on|to|of|titled|called|named|regarding)\s+)?",
    _FLAGS,
)

# --- pros and cons (collection-wide: the articles' arguments for and against X) ------------------
PROS_CONS = re.compile(
    r"\b(?:pros\s+and\s+cons|advantages\s+and\s+disadvantages|benefits\s+and\s+(?:drawbacks|downsides|costs|risks)|"
    r"strengths\s+and\s+weaknesses|upsides\s+and\s+downsides|trade-?offs)\s+(?:of|for|in|with)\s+(?P<x>.+?)\s*[?.!]*$",
    _FLAGS,
)

# --- comparison ------------------------------------------------------------------------------
_SIDE = r"(?P<a>[^?,;]+?)"
_SIDE_B = r"(?P<b>[^?,;]+?)"
_END = r"\s*(?:\bfor\b[^?]*|\bin\b[^?]*|\bwhen\b[^?]*|\baccording to\b[^?]*)?$"
_COMPARISON = [
    # the topic first, then the sides: "How is error handling different in Gleam compared to Python?",
    # "Compare how errors are handled in Python and Gleam."
    re.compile(rf"^how\s+(?:is|are|does|do)\s+[^?]+?\s+(?:different|differ|\w+\s+differently)\s+(?:in|for|between)\s+{_SIDE}\s+"
               rf"(?:compared (?:to|with)|from|than|and|vs\.?|versus)\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^(?:please\s+)?(?:compare|contrast)\s+(?:how|what|why|when)\s+[^?]+?\s+(?:in|for|by|with)\s+{_SIDE}\s+(?:and|with|to|vs\.?|versus)\s+"
               rf"{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^(?:please\s+|can you\s+|could you\s+)?(?:compare|contrast)\s+{_SIDE}\s+(?:and|with|to|against|vs\.?|versus)\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^(?:what(?:'s| is| are)\s+)?(?:the\s+|a\s+)?(?:main\s+|key\s+)?(?:difference|differences|distinction|comparison)\s+(?:between|of)\s+{_SIDE}\s+(?:and|vs\.?|versus)\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^how\s+(?:does|do|did|is|are)\s+{_SIDE}\s+(?:differ|compare|stack up|contrast|different)\s+(?:from|to|with|against|than)\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^how\s+(?:do|did|does)\s+{_SIDE}\s+and\s+{_SIDE_B}\s+(?:differ|compare|contrast)\b.*$", _FLAGS),
    re.compile(rf"^(?:should|would|do|could)\s+(?:i|we|you|teams?|developers?)\s+(?:use|choose|pick|go with|prefer|learn|adopt)\s+{_SIDE}\s+or\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^(?:which|what)\s+(?:is|one is|would be|should i (?:use|choose|pick))\s+(?:better|faster|preferable|more \w+)[^,:]*[,:]\s*{_SIDE}\s+or\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^is\s+{_SIDE}\s+(?:better|worse|faster|slower|safer|easier|harder|more \w+|less \w+)\s+than\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^(?:what are\s+)?(?:the\s+)?(?:pros and cons|advantages and disadvantages|strengths and weaknesses)\s+of\s+{_SIDE}\s+(?:and|vs\.?|versus|compared (?:to|with))\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^(?:what(?:'s| is| are)\s+)?(?:the\s+)?(?:advantages?|benefits?)\s+of\s+{_SIDE}\s+over\s+{_SIDE_B}{_END}", _FLAGS),
    re.compile(rf"^{_SIDE}\s+(?:vs\.?|versus|compared (?:to|with))\s+{_SIDE_B}{_END}", _FLAGS),
]

# --- collection-wide -------------------------------------------------------------------------
_DOCS = r"(?:articles|posts|documents|sources|authors|pages|guides|texts|writers|the collection|the corpus)"
_COLLECTION = [
    re.compile(rf"\b(?:the|these|all|both|several|many|most|other|different)\s+(?:of the\s+)?{_DOCS}\b", _FLAGS),
    re.compile(rf"\b(?:which|what|how many)\s+{_DOCS}\b", _FLAGS),
    re.compile(rf"\b(?:across|in all|throughout)\s+(?:the\s+)?{_DOCS}\b", _FLAGS),
    re.compile(r"\b(?:the|this|our|my)\s+(?:whole\s+|entire\s+)?(?:collection|corpus)\b(?!\s+of\b)", _FLAGS),  # "What does the collection say ...?"
    re.compile(r"\bmost\s+(?:often|frequently|commonly|common|popular|mentioned|cited|recommended|discussed|named)\b", _FLAGS),
    re.compile(r"\b(?:trends?|trending)\b", _FLAGS),
    re.compile(r"\b(?:do|does)\s+(?:they|everyone|the \w+s)\s+(?:agree|disagree)\b", _FLAGS),
    re.compile(r"\b(?:consensus|in common|overall picture|commonly agreed)\b", _FLAGS),
    re.compile(r"\bpros and cons\b|\badvantages and disadvantages\b|\bstrengths and weaknesses\b", _FLAGS),
    re.compile(r"\b(?:factors|criteria|considerations)\s+(?:to|should|must|do|that)\b", _FLAGS),
]
_SINGLE_DOC = re.compile(r"\b(?:this|that|the)\s+(?:article|post|document|page|guide|text)\b(?!s)", _FLAGS)

# --- list ------------------------------------------------------------------------------------
_LIST_VERB = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:list|enumerate|name)\b(?!\s+of\b)", _FLAGS)
_LIST_ALL = re.compile(r"^(?:what|which|who)\s+(?:are|were)\s+(?:all|the\s+(?:various|different))\b", _FLAGS)
_LIST_COUNT = re.compile(r"^(?:give|tell|show)\s+(?:me\s+)?(?:some|a few|several|\d+|two|three|four|five|six|seven|eight|nine|ten)\b", _FLAGS)
_ARE_THE = re.compile(r"^(?:what|which)\s+(?:are|were)\s+(?:all\s+(?:of\s+)?)?(?:the|some|its|their|his|her|all)\s+(?P<np>.+)$", _FLAGS)
_LIST_NP = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:list|enumerate|name)\s+(?:all\s+(?:of\s+)?)?(?:the\s+)?(?P<np>.+)$", _FLAGS)
_WH_NOUN = re.compile(r"^(?:what|which)\s+(?P<np>.+)$", _FLAGS)

_AUX = {
    "are", "were", "do", "did", "have", "had", "can", "could", "will", "would", "should", "shall",
    "might", "must", "may", "is", "was", "does", "has", "been", "be",
}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her", "my", "your", "our", "it", "them"}
# Words ending in "s" that are not plural nouns (or are verbs that commonly follow "what").
_NOT_PLURAL = {
    "is", "was", "has", "does", "this", "its", "his", "us", "yes", "thus", "always", "perhaps", "less",
    "unless", "across", "whereas", "plus", "versus", "vs", "makes", "happens", "causes", "lets",
    "means", "drives", "gives", "helps", "determines", "keeps", "sets", "separates", "distinguishes",
    "matters", "counts", "explains", "goes", "comes", "needs", "works", "remains", "stands", "seems",
    "looks", "sounds", "takes", "allows", "enables", "limits", "affects", "influences", "decides",
    "runs", "uses", "lies", "happens", "belongs", "says", "shows", "brings", "turns", "contains",
    "focuses", "includes", "offers", "provides", "supports", "requires", "powers", "suits",
}
_PREPOSITIONS = {"of", "to", "in", "on", "for", "from", "with", "by", "at", "about", "that", "which", "who"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


def _clean(question: str) -> str:
    q = " ".join(question.split()).strip()
    return q.rstrip("?.! ").strip()


def _side(text: str) -> str:
    t = re.sub(r"^(?:the|a|an)\s+", "", text.strip(" '\"“”"), flags=_FLAGS)
    return t.strip(" '\"“”")


def _plural(word: str) -> bool:
    w = word.lower().strip("'")
    if len(w) < 4 or not w.endswith("s") or w in _NOT_PLURAL:
        return False
    return not w.endswith(("ss", "us", "is", "'s"))


def _plural_head(np: str, *, after_verb: bool = False) -> str:
    """The plural noun heading a noun phrase that follows "what"/"which", or ''.

    "enemy types wield an AK-47" -> "types"; "companies use Go" -> "companies";
    "company uses FastAPI" -> '' (a singular noun followed by a verb); "makes jammed" -> ''.
    """
    words = _WORD.findall(np)
    for i, word in enumerate(words[:4]):
        low = word.lower()
        if low in _AUX or low in _DETERMINERS or low in _NOT_PLURAL:
            return ""
        if _plural(word):
            nxt = words[i + 1].lower() if i + 1 < len(words) else ""
            if not after_verb and i > 0 and nxt and (nxt in _DETERMINERS or words[i + 1][0].isupper()) and nxt not in _AUX:
                return ""  # "company uses FastAPI": a verb after a singular noun
            return low
        if low in _PREPOSITIONS:
            return ""
    return ""


def _entity(q: str) -> str:
    for pattern in (_ARE_THE, _LIST_NP, _WH_NOUN):
        m = pattern.match(q)
        if m:
            np = re.sub(r"^(?:\w+\s+)?(?:most|more)\s+", "", m.group("np"), flags=_FLAGS) if pattern is _WH_NOUN else m.group("np")
            head = _plural_head(np, after_verb=pattern is not _WH_NOUN)
            if head and not re.fullmatch(_DOCS, head, _FLAGS):
                return head
    return ""


def _summary(q: str) -> Shape | None:
    for pattern in _SUMMARY:
        m = pattern.match(q)
        if m:
            target = _TARGET_LEAD.sub("", m.group("t").strip(), count=1).strip(" '\"“”")
            if target:
                return Shape("summary", target=target)
    return None


def _comparison(q: str) -> Shape | None:
    for pattern in _COMPARISON:
        m = pattern.match(q)
        if m:
            a, b = _side(m.group("a")), _side(m.group("b"))
            if a and b and a.lower() != b.lower() and len(a.split()) <= 8 and len(b.split()) <= 8:
                return Shape("comparison", sides=(a, b))
    return None


def _collection(q: str) -> bool:
    if _SINGLE_DOC.search(q) and not re.search(rf"\b{_DOCS}\b", q, _FLAGS):
        return False
    if PROS_CONS.search(q):
        return True
    return any(p.search(q) for p in _COLLECTION)


def _is_list(q: str, entity: str) -> bool:
    if _LIST_VERB.match(q) or _LIST_ALL.match(q) or _LIST_COUNT.match(q):
        return True
    return bool(entity)


def classify(question: str) -> Shape:
    """The shape of ``question``; ``factoid`` when no rule recognises it. Pure, no IO."""
    q = _clean(question)
    if not q:
        return Shape()
    found = _summary(q) or _comparison(q)
    if found:
        return found
    entity = _entity(q)
    if _collection(q):
        return Shape("collection", entity=entity)
    if _is_list(q, entity):
        return Shape("list", entity=entity)
    return Shape()
