"""The text side of collection answers: what a question is about, which sentences of a passage
can stand as evidence, how a name is matched, and how cited chunks are numbered. Pure."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from assistant.grouping import Evidence
from assistant.models import Citation, Passage
from corpus.text import sentence_spans
from index.keyword import tokenize_query

__all__ = ["MARKER", "Citer", "dedupe", "focus", "mention_pattern", "sentences", "unknown_names"]

MARKER = re.compile(r"\s?\[\s*\d{1,3}\s*\]")  # an article's own "[n]": data, not a citation

_ASKING = re.compile(
    r"\b(?:what|which|how|do|does|did|is|are|the|these|all|both|of|articles?|posts?|documents?|sources?|authors?|"
    r"say|says|said|write|mention|mentions|mentioned|discuss|discussed|most|often|frequently|commonly|agree|disagree|"
    r"about|on|regarding|many|any|"
    # what asks for the articles' views rather than naming a subject: "what trends do they expect"
    r"trends?|predict|predicts|prediction|predictions|expect|expects|expected|shape|shaping|future|main|key|"
    r"themes?|topics?|points?|ideas?|takeaways?|views?|overall|general|common|in common)\b",
    re.I,
)
_PRONOUN = re.compile(r"^(?:it|its|it’s|it's|they|their|them|this|these|that|those)\b", re.I)


def focus(question: str) -> str:
    """What a collection question is about, without the words that ask it ("What do the
    articles say about Rust?" -> "Rust"); the question itself when nothing is left."""
    rest = " ".join(_ASKING.sub(" ", question.rstrip("?.! ")).split())
    rest = re.sub(r"^(?:to|for|in|of|with|by)\s+", "", rest, flags=re.I)
    return rest if len(rest) >= 2 else question


def unknown_names(question: str, known: Callable[[str], bool]) -> list[str]:
    """Names in the question (capitalised words past the first, acronyms) that ``known`` does
    not recognise: a question about "Mojolicious" is not answered from articles that never
    name it. Pure given ``known``."""
    words = re.findall(r"[A-Za-z][\w+#.]*", question)
    out = []
    for i, word in enumerate(words):
        word = re.sub(r"(['’]s|[.-])$", "", word)
        if i > 0 and word[:1].isupper() and not known(word):
            out.append(word)
    return out


def sentences(text: str) -> list[str]:
    """The sentences of a passage that can stand as evidence (five words or more, statements);
    one starting with a pronoun keeps the sentence before it, which the pronoun points back to."""
    spans = sentence_spans(text)
    out = []
    for i, (a, b) in enumerate(spans):
        sentence = text[a:b].lstrip("-*•· ").strip()
        if len(sentence.split()) < 5 or sentence.endswith((":", "?")):
            continue
        if _PRONOUN.match(sentence) and i > 0:
            before = text[spans[i - 1][0] : spans[i - 1][1]].lstrip("-*•· ").strip()
            if not before.endswith((":", "?")) and len(before.split()) >= 3:
                sentence = f"{before} {sentence}"
        out.append(sentence)
    return out


def dedupe(evidence: list[Evidence]) -> list[Evidence]:
    """One piece of evidence per sentence of an article: the most relevant of the copies (a key
    point found again in a passage, a sentence kept again with the one before it)."""
    best: dict[tuple[str, str], Evidence] = {}
    for e in sorted(evidence, key=lambda e: (-e.relevance, -len(e.text))):
        key = (e.source, " ".join(e.text.split()))
        if key not in best:
            best[key] = e
    kept = list(best.values())
    return [e for e in kept if not any(o is not e and o.source == e.source and len(o.text) > len(e.text) and e.text in o.text and o.relevance >= e.relevance - 0.1 for o in kept)]


def mention_pattern(side: str) -> re.Pattern[str]:
    """Matches a name in text: its words in order, word-bounded; "Node.js" also as "Node"."""
    core = re.sub(r"\.js$", "", side.strip(), flags=re.I)
    words = [re.escape(w) for w in core.split()]
    flags = 0 if any(ch.isupper() for ch in core) else re.I
    return re.compile(r"(?<![\w.])" + r"\s+".join(words) + r"(?:\.js)?(?![\w])", flags)


class Citer:
    """Numbers cited chunks in order of first use; each citation keeps the sentences quoted.
    ``chunk(id)`` finds a chunk's full text (None: the quotes stand in for it)."""

    def __init__(self, chunk: Callable[[str], Any]):
        self._chunk = chunk
        self.order: OrderedDict[str, int] = OrderedDict()
        self.quotes: dict[str, list[str]] = {}
        self.meta: dict[str, tuple[str, str, str, float]] = {}

    def cite(self, chunk_id: str, source: str, title: str, section: str, quote: str, score: float = 0.0) -> int:
        if chunk_id not in self.order:
            self.order[chunk_id] = len(self.order) + 1
            self.quotes[chunk_id] = []
            self.meta[chunk_id] = (source, title, section, score)
        if quote not in self.quotes[chunk_id]:
            self.quotes[chunk_id].append(quote)
        return self.order[chunk_id]

    def citations(self) -> tuple[tuple[Citation, ...], tuple[Passage, ...]]:
        cites, passages = [], []
        for cid, n in self.order.items():
            source, title, section, score = self.meta[cid]
            chunk = self._chunk(cid)
            text = chunk.text if chunk is not None else " ".join(self.quotes[cid])
            cites.append(Citation(n=n, title=title, source=source, text=text, score=score, section=section,
                                  chunk_id=cid, quotes=tuple(self.quotes[cid]),
                                  publisher=getattr(chunk, "publisher", None), date=getattr(chunk, "date", None),
                                  url=getattr(chunk, "url", None)))
            passages.append(Passage(chunk_id=cid, text=text, title=title, source=source, section=section, score=score,
                                    start=getattr(chunk, "start", 0), end=getattr(chunk, "end", 0)))
        return tuple(cites), tuple(passages)


_WORDS = re.compile(r"[A-Za-z][\w'’-]*")


def news(sentence: str, asked: frozenset[str]) -> float:
    """How much a sentence says beyond the question's words: the summed specificity (general
    English rarity, 0..1 a word) of its words the question does not contain. Pure."""
    from assistant.evidence import specificity

    total = 0.0
    for word in _WORDS.findall(sentence):
        tokens = tokenize_query(word)
        if tokens and not set(tokens) <= asked:
            total += specificity(word)
    return total
