"""Named things of an article (``Mention``): capitalised or mixed-case terms taken from the text
("Spring Boot", "Node.js", "gRPC"), not from a list. A capitalised word whose lower-case form is
as common in the article (a sentence-initial "Security") is not a name. For each name: how often
it is mentioned, the words naming what it is (``kinds``, ``index/name_kinds.py``) and one
sentence that mentions it. Pure."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.chunking import blocks
from corpus.models import Article, Chunk
from index.knowledge_text import WORDS, Sentence, article_sentences, chunk_of, headings, singular
from index.name_kinds import W_HEADING, W_PATTERN, W_SECTION, category_words, kind_evidence

__all__ = ["MAX_KINDS", "Mention", "mentions", "name_key"]

MAX_KINDS = 12  # category words kept per name


@dataclass(frozen=True)
class Mention:
    """A named thing in one article: how often, what the article calls it, where."""

    name: str
    count: int
    kinds: tuple[tuple[str, float], ...]
    sentence: str
    chunk_id: str

    def kind_weight(self, kind: str) -> float:
        return next((w for k, w in self.kinds if k == kind), 0.0)


# a token: a word with inner dots, pluses, hashes or digits ("Node.js", "C#", "C++", "gRPC", "0.6")
_TOKEN = re.compile(r"[A-Za-z0-9.][\w.+#’'-]*[\w+#]|[A-Za-z]")
_CONNECTORS = {"on", "of", "de", "&"}
_VERSION = re.compile(r"^v?\d+(?:\.\d+)*$")
_POSSESSIVE = re.compile(r"[’']s$")


def name_key(name: str) -> str:
    """The key two spellings of one name share ("Node.js" and "Node" -> "node", "APIs" -> "api")."""
    key = _POSSESSIVE.sub("", name.strip())
    if re.fullmatch(r"[A-Z]{2,}s", key):
        key = key[:-1]
    key = re.sub(r"\s+v?\d+(?:\.\d+)*$", "", key.lower())
    return re.sub(r"\.js$", "", key)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text):
        t = m.group(0)
        head, _, tail = t.partition("-")
        if tail and head and tail.islower() and not head.islower():  # "Go-based" -> "Go"
            out.append(_Token(head, m.start(), m.start() + len(head)))
            out.append(_Token("-" + tail, m.start() + len(head), m.end()))
        else:
            out.append(_Token(t, m.start(), m.end()))
    return out


def _prose(text: str) -> bool:
    """A sentence of running text, not a title-cased label line."""
    words = WORDS.findall(text)
    return len(words) >= 4 and sum(w[0].isupper() for w in words) <= 0.6 * len(words)


@dataclass(frozen=True)
class _Case:
    lower: Counter[str]  # lower-case occurrences of a word
    caps: Counter[str]  # capitalised occurrences inside prose sentences (not their first word) and in headings
    prose: Counter[str]  # occurrences in prose sentences, any position


def _case_counts(article: Article, sentences: list[Sentence]) -> _Case:
    lower: Counter[str] = Counter()
    caps: Counter[str] = Counter()
    prose: Counter[str] = Counter()
    for s in sentences:
        if not _prose(s.text):
            continue
        for i, tok in enumerate(_tokens(s.text)):
            core = _POSSESSIVE.sub("", tok.text)
            prose[core.lower()] += 1
            if core.islower():
                lower[core] += 1
            elif i > 0 and core[:1].isupper():
                caps[core.lower()] += 1
    # headings are title-cased, so only a short one that is a name ("Laravel", "Express.js")
    # says its words are names
    for heading in {b.section for b in blocks(article.text)}:
        words = _tokens(heading)
        if len(words) <= 3:
            for t in words:
                core = _POSSESSIVE.sub("", t.text)
                caps[core.lower()] += 1
                if name_key(core) != core.lower():
                    caps[name_key(core)] += 1
    return _Case(lower, caps, prose)


def _marked(core: str) -> bool:
    """Mixed case, digits or symbols: a name by its spelling ("gRPC", "Node.js", "C#", "PHP")."""
    return core[:1].isalpha() and (
        any(ch.isupper() for ch in core[1:]) or any(ch in core for ch in ".+#") or any(ch.isdigit() for ch in core)
    ) and any(ch.isupper() for ch in core)


def _name_like(tok: str, first: bool, case: _Case) -> bool:
    core = _POSSESSIVE.sub("", tok)
    if not core or not core[0].isalpha():
        return False
    if _marked(core):
        return True
    if not core[0].isupper():
        return False
    low = core.lower()
    if not case.prose[low]:
        return False  # seen only in label lines ("Programming Language")
    caps = max(case.caps[low], case.caps[name_key(core)])
    if first:  # a sentence-initial capital says nothing by itself
        return case.lower[low] == 0 and caps > 0
    # capitalised inside running text: a name, unless the article mostly writes it in lower case
    return caps >= 2 or case.lower[low] < max(1, caps)


def _names_in(text: str, case: _Case) -> list[tuple[str, int, int]]:
    """``(name, first token, last token)``: runs of adjacent capitalised tokens that start with a
    name ("Spring Boot", "Azure Functions", "Ruby on Rails"); version numbers are dropped."""
    tokens = _tokens(text)
    prose = _prose(text)
    out: list[tuple[str, int, int]] = []
    if 0 < len(tokens) <= 3 and all(t.text[:1].isupper() and not case.lower[t.text.lower()] for t in tokens):
        return [(" ".join(t.text for t in tokens), 0, len(tokens) - 1)]  # a line that is a name ("- Python")
    i = 0

    def joined(a: int, b: int) -> bool:
        gap = text[tokens[a].end : tokens[b].start]
        return gap.strip() == "" and not _POSSESSIVE.search(tokens[a].text)

    while i < len(tokens):
        if not _name_like(tokens[i].text, i == 0 and prose, case):
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and joined(j, j + 1):
            nxt = tokens[j + 1].text
            if nxt[:1].isupper() and (prose or _name_like(nxt, False, case)):
                j += 1
            elif nxt in _CONNECTORS and j + 2 < len(tokens) and joined(j + 1, j + 2) and _name_like(tokens[j + 2].text, False, case):
                j += 2
            elif _VERSION.match(nxt):
                j += 1
            else:
                break
        words = [_POSSESSIVE.sub("", t.text) for t in tokens[i : j + 1]]
        while words and _VERSION.match(words[-1]):
            words.pop()
        if words:
            out.append((" ".join(words), i, j))
        i = j + 1
    return out


def _name_sections(article: Article, case: _Case, categories: set[str]) -> dict[str, set[str]]:
    """Sections headed by a name alone ("Laravel"), listed under the last heading that is not a
    name ("What are the Best Backend Frameworks"): each such name gets that heading's kinds."""
    out: dict[str, set[str]] = {}
    parent: set[str] = set()
    for heading in headings(article):
        tokens = _tokens(heading)
        spans = _names_in(heading, case)
        covered = {t for _, i, j in spans for t in range(i, j + 1)}
        if spans and all(t in covered or tokens[t].text.lower() in ("and", "or", "&", "vs") for t in range(len(tokens))):
            for name, _, _ in spans:  # "Laravel", "Go and Rust"
                out.setdefault(name_key(name), set()).update(parent)
        else:
            parent = {singular(w) for w in WORDS.findall(heading)} & categories
    return out


def mentions(article: Article, chunks: Sequence[Chunk], window: int = 8) -> tuple[Mention, ...]:
    """The named things of ``article``, most mentioned first. Pure."""
    sentences = article_sentences(article)
    case = _case_counts(article, sentences)
    categories = category_words(article.text)
    counts: Counter[str] = Counter()
    surface: defaultdict[str, Counter[str]] = defaultdict(Counter)
    kinds: defaultdict[str, Counter[str]] = defaultdict(Counter)
    where: dict[str, tuple[str, int, int]] = {}
    previous = ""
    for s in sentences:
        tokens = [t.text for t in _tokens(s.text)]
        label = WORDS.findall(previous)
        label_kind = singular(label[-1]) if len(tokens) <= 3 and 0 < len(label) <= 3 else ""  # "Programming Language:" / "Python"
        previous = s.text
        spans = [(name, i, j) for name, i, j in _names_in(s.text, case)
                 if len(name_key(name)) >= 2 and name_key(name) not in categories and singular(name_key(name)) not in categories]
        evidence = kind_evidence(tokens, spans, categories, window)
        heading_kinds = {singular(w) for w in WORDS.findall(s.section)} & categories
        for n, (name, i, j) in enumerate(spans):
            key = name_key(name)
            counts[key] += 1
            surface[key][name] += 1
            kinds[key].update(evidence[n])
            for kind in heading_kinds:
                kinds[key][kind] += W_HEADING
            if label_kind:
                kinds[key][label_kind] += W_PATTERN
            best = where.get(key)
            words = len(WORDS.findall(s.text))
            if best is None or (len(WORDS.findall(best[0])) < 8 <= words):
                where[key] = (s.text, s.start, s.end)
    for key, parent in _name_sections(article, case, categories).items():
        for kind in parent:
            if key in counts:
                kinds[key][kind] += W_SECTION / len(parent)
    # an acronym the article also writes in the plural ("APIs", "IDEs") is a common noun
    common = {name_key(n) for forms in surface.values() for n in forms if re.fullmatch(r"[A-Z]{2,}s", n)}
    out = []
    for key, n in counts.most_common():
        if key in common:
            continue
        text, a, b = where[key]
        top = tuple((k, round(w, 2)) for k, w in kinds[key].most_common(MAX_KINDS))
        out.append(Mention(surface[key].most_common(1)[0][0], n, top, text[:400], chunk_of(chunks, a, b)))
    return tuple(out)
