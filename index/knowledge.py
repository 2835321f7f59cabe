"""Article-level knowledge made at index time: key points and the named things an article discusses.

Pure functions; the indexer embeds the points and stores them with the chunks of the same
generation (``ChromaStore`` knowledge records), so collection-wide questions read these instead of
every chunk.

- **Key points** (``KeyPoint``): central, non-redundant sentences under their headings. Sentences
  are scored by TF-IDF closeness to their own section's centroid, then to the article's and to
  its title; each section keeps its best sentence (two for a section of four or more), and a
  sentence too close to one already kept is dropped.
- **Named things** (``Mention``): capitalised or mixed-case terms taken from the text ("Spring
  Boot", "Node.js", "gRPC"), not from a list. A capitalised word whose lower-case form is as
  common in the article (a sentence-initial "Security") is not a name. For each name: how often
  it is mentioned, the words naming what it is (``kinds``: category nouns — words the article
  also uses in the plural — near its mentions, "frameworks like X" or "the X framework"), and
  one sentence that mentions it.

Records: ``to_records`` turns an ``ArticleKnowledge`` into the store's records: one per point
(embedded as "section. sentence"), one per article (title and headings) and one with its names
as JSON; ``point_from_record``, ``sections_from_record`` and ``mentions_from_record`` read them
back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.chunking import blocks
from corpus.models import Article, Chunk
from corpus.text import sentence_spans
from index.keyword import tokenize_query

__all__ = [
    "ArticleKnowledge",
    "KeyPoint",
    "Mention",
    "extract",
    "headings",
    "mentions_from_record",
    "knowledge_signature",
    "name_key",
    "point_from_record",
    "sections_from_record",
    "singular",
    "to_records",
]

MAX_POINTS = 30  # per article
MAX_KINDS = 12  # category words kept per name
_MIN_WORDS, _MAX_WORDS = 6, 70
_REDUNDANT = 0.6  # TF-IDF cosine above which a second point repeats a kept one


@dataclass(frozen=True)
class KeyPoint:
    """A central sentence of an article; ``start``/``end`` index into the article's text."""

    text: str
    section: str
    order: int  # sentence number in the article (reading order)
    start: int
    end: int
    score: float  # centrality, higher is better
    chunk_id: str

    def embedding_text(self) -> str:
        return f"{self.section}. {self.text}" if self.section else self.text


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


@dataclass(frozen=True)
class ArticleKnowledge:
    source: str
    title: str
    article_hash: str
    points: tuple[KeyPoint, ...]
    mentions: tuple[Mention, ...]


@functools.cache
def knowledge_signature() -> str:
    """Names how knowledge is made (this module's code and limits): a change recomputes it all."""
    h = hashlib.sha256(f"{MAX_POINTS}:{MAX_KINDS}\n".encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


# --- sentences ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sentence:
    text: str
    section: str
    start: int
    end: int
    block: int
    order: int


def _sentences(article: Article) -> list[_Sentence]:
    out: list[_Sentence] = []
    for bi, block in enumerate(blocks(article.text)):
        for a, b in sentence_spans(article.text, block.start, block.end):
            text = article.text[a:b].lstrip("-*•· \t").strip()
            a = b - len(text)
            out.append(_Sentence(text, block.section, a, b, bi, len(out)))
    return out


_WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_PRONOUN = re.compile(r"^(?:it|its|it’s|it's|they|their|them|this|these|that|those|he|she)\b", re.I)


def _is_point(s: _Sentence) -> bool:
    """A sentence that can stand alone as a point: long enough, a statement, not navigation."""
    words = _WORDS.findall(s.text)
    if not (_MIN_WORDS <= len(words) <= _MAX_WORDS) or s.text.endswith((":", "?")):
        return False
    if "@" in s.text or "http" in s.text.lower():
        return False
    capitalised = sum(w[0].isupper() for w in words)
    return capitalised <= 0.6 * len(words)


def _chunk_of(chunks: Sequence[Chunk], start: int, end: int) -> str:
    best, overlap = "", 0
    for c in chunks:
        o = min(end, c.end) - max(start, c.start)
        if o > overlap:
            best, overlap = c.id, o
            if c.start <= start and end <= c.end:
                break
    return best


def _tfidf(token_lists: list[list[str]]) -> list[dict[str, float]]:
    df: Counter[str] = Counter()
    for tokens in token_lists:
        df.update(set(tokens))
    n = len(token_lists)
    vectors = []
    for tokens in token_lists:
        tf = Counter(tokens)
        v = {t: (1 + math.log(c)) * math.log(1 + n / df[t]) for t, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({t: x / norm for t, x in v.items()})
    return vectors


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def _centroid(vectors: list[dict[str, float]]) -> dict[str, float]:
    total: defaultdict[str, float] = defaultdict(float)
    for v in vectors:
        for t, x in v.items():
            total[t] += x
    norm = math.sqrt(sum(x * x for x in total.values())) or 1.0
    return {t: x / norm for t, x in total.items()}


def key_points(article: Article, chunks: Sequence[Chunk], max_points: int = MAX_POINTS) -> tuple[KeyPoint, ...]:
    """The article's key points in reading order. Pure."""
    candidates = [s for s in _sentences(article) if _is_point(s)]
    if not candidates:
        return ()
    vectors = _tfidf([tokenize_query(s.text) for s in candidates])
    title = _tfidf([tokenize_query(article.title)] + [tokenize_query(s.text) for s in candidates])[0]
    centre = _centroid(vectors)
    by_section: defaultdict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(candidates):
        by_section[s.section].append(i)
    section_centre = {sec: _centroid([vectors[i] for i in idx]) for sec, idx in by_section.items()}
    first_of_block = {s.block: s.order for s in reversed(candidates)}
    # what a section is about, more than what the whole article is about (that is its framing)
    scores = [
        _cos(v, section_centre[s.section]) + 0.3 * _cos(v, centre) + 0.2 * _cos(v, title)
        + (0.05 if first_of_block[s.block] == s.order else 0.0)
        - (0.1 if _PRONOUN.match(s.text) else 0.0)  # "It simplifies...": weaker out of context
        for s, v in zip(candidates, vectors)
    ]
    # each section's best sentence, a second one for a long section; best sections first
    picks: list[int] = []
    for idx in by_section.values():
        ranked = sorted(idx, key=lambda i: -scores[i])
        picks.append(ranked[0])
        if len(idx) >= 4:
            picks.append(ranked[1])
    chosen: list[int] = []
    for i in sorted(picks, key=lambda i: -scores[i]):
        if len(chosen) >= max_points:
            break
        if all(_cos(vectors[i], vectors[j]) < _REDUNDANT for j in chosen):
            chosen.append(i)
    return tuple(
        KeyPoint(s.text, s.section, s.order, s.start, s.end, round(scores[i], 4), _chunk_of(chunks, s.start, s.end))
        for i in sorted(chosen, key=lambda i: candidates[i].order)
        for s in (candidates[i],)
    )


# --- named things ---------------------------------------------------------------------------
# a token: a word with inner dots, pluses, hashes or digits ("Node.js", "C#", "C++", "gRPC", "0.6")
_TOKEN = re.compile(r"[A-Za-z0-9.][\w.+#’'-]*[\w+#]|[A-Za-z]")
_CONNECTORS = {"on", "of", "de", "&"}
_VERSION = re.compile(r"^v?\d+(?:\.\d+)*$")
_POSSESSIVE = re.compile(r"[’']s$")
# what comes before a plural that names a category ("frameworks like", "the databases")
_CATEGORY_BEFORE = {
    "the", "these", "those", "many", "other", "several", "all", "some", "most", "top", "best", "popular",
    "modern", "new", "major", "such", "different", "various", "multiple", "both", "our", "your", "their",
    "leading", "few", "two", "three", "four", "five", "which", "what",
}
_CATEGORY_AFTER = {"like", "such", "including", "include", "are", "were"}


def singular(word: str) -> str:
    """A plural's singular, roughly ("libraries" -> "library", "databases" -> "database")."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "xes", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


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
    words = _WORDS.findall(text)
    return len(words) >= 4 and sum(w[0].isupper() for w in words) <= 0.6 * len(words)


@dataclass(frozen=True)
class _Case:
    lower: Counter[str]  # lower-case occurrences of a word
    caps: Counter[str]  # capitalised occurrences inside prose sentences (not their first word) and in headings
    prose: Counter[str]  # occurrences in prose sentences, any position


def _case_counts(article: Article, sentences: list[_Sentence]) -> _Case:
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


def _category_words(text: str) -> set[str]:
    """Nouns the text uses in the plural after "the", "many", "top"... or before "like",
    "such as": the words that can say what a name is ("frameworks", "databases")."""
    words = _WORDS.findall(text)
    out = set()
    for i, w in enumerate(words):
        low = w.lower()
        if len(low) <= 4 or singular(low) == low or w.isupper():
            continue
        before = {w.lower() for w in words[max(0, i - 2) : i]}  # "the best game engines"
        after = words[i + 1].lower() if i + 1 < len(words) else ""
        if before & _CATEGORY_BEFORE or after in _CATEGORY_AFTER:
            out.add(singular(low))
    return out


_LIST_TRIGGERS = {"like", "including", "include", "includes", "such"}
_BETWEEN = {"and", "or", "as", "the", "also", "even"}
_COPULA = {"is", "was", "remains", "becomes", "as", "stays"}

# how strongly a context says what a name is
W_PATTERN = 3.0  # "frameworks like X, Y and Z", "X is a lightweight framework", "Language: X"
W_NEXT = 2.0  # "the X framework"
W_SECTION = 2.0  # X heads a section listed under a heading that names the kind ("Best Frameworks" > "X")
W_NEAR, W_FAR = 0.5, 0.25  # the kind word elsewhere in the sentence (within ``window`` tokens / further)
W_HEADING = 0.5  # the kind word in the heading of the name's section


def _kind_evidence(tokens: list[str], spans: list[tuple[str, int, int]], categories: set[str], window: int) -> dict[int, Counter[str]]:
    """Per name (index into ``spans``): the kind words its sentence gives it, weighted. Pure."""
    out: dict[int, Counter[str]] = {n: Counter() for n in range(len(spans))}
    names_at = {}
    for n, (_, i, j) in enumerate(spans):
        for t in range(i, j + 1):
            names_at[t] = n
    for n, (_, i, j) in enumerate(spans):
        for at, w in enumerate(tokens):
            kind = singular(w)
            if (i <= at <= j) or w.isupper() or kind not in categories:
                continue
            out[n][kind] += W_NEAR if i - window <= at <= j + window else W_FAR
        if j + 1 < len(tokens) and tokens[j + 1].islower() and singular(tokens[j + 1]) == tokens[j + 1] and tokens[j + 1] in categories:
            out[n][tokens[j + 1]] += W_NEXT  # "the X framework" (not "Go frameworks")
        # "X is a lightweight framework", "X has established itself as a leading language"
        copula = next((at for at in range(j + 1, min(j + 5, len(tokens))) if tokens[at].lower() in _COPULA), None)
        if copula is not None:
            for w in tokens[copula + 1 : copula + 6]:
                if singular(w) in categories and w.islower():
                    out[n][singular(w)] += W_PATTERN
                    break
    # "frameworks like X, Y and Z": the names listed after a plural category and a trigger
    for t, w in enumerate(tokens):
        if w.lower() not in _LIST_TRIGGERS or t == 0:
            continue
        kind = singular(tokens[t - 1])
        if kind not in categories or kind == tokens[t - 1].lower():
            continue
        at = t + 1 + (1 if w.lower() == "such" else 0)
        while at < len(tokens):
            if at in names_at:
                n = names_at[at]
                out[n][kind] += W_PATTERN
                at = spans[n][2] + 1
            elif tokens[at].lower() in _BETWEEN:
                at += 1
            else:
                break
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
            parent = {singular(w) for w in _WORDS.findall(heading)} & categories
    return out


def mentions(article: Article, chunks: Sequence[Chunk], window: int = 8) -> tuple[Mention, ...]:
    """The named things of ``article``, most mentioned first. Pure."""
    sentences = _sentences(article)
    case = _case_counts(article, sentences)
    categories = _category_words(article.text)
    counts: Counter[str] = Counter()
    surface: defaultdict[str, Counter[str]] = defaultdict(Counter)
    kinds: defaultdict[str, Counter[str]] = defaultdict(Counter)
    where: dict[str, tuple[str, int, int]] = {}
    previous = ""
    for s in sentences:
        tokens = [t.text for t in _tokens(s.text)]
        label = _WORDS.findall(previous)
        label_kind = singular(label[-1]) if len(tokens) <= 3 and 0 < len(label) <= 3 else ""  # "Programming Language:" / "Python"
        previous = s.text
        spans = [(name, i, j) for name, i, j in _names_in(s.text, case)
                 if len(name_key(name)) >= 2 and name_key(name) not in categories and singular(name_key(name)) not in categories]
        evidence = _kind_evidence(tokens, spans, categories, window)
        heading_kinds = {singular(w) for w in _WORDS.findall(s.section)} & categories
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
            words = len(_WORDS.findall(s.text))
            if best is None or (len(_WORDS.findall(best[0])) < 8 <= words):
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
        out.append(Mention(surface[key].most_common(1)[0][0], n, top, text[:400], _chunk_of(chunks, a, b)))
    return tuple(out)


def headings(article: Article) -> tuple[str, ...]:
    """The article's section headings in order."""
    return tuple(dict.fromkeys(b.section for b in blocks(article.text) if b.section))


def extract(article: Article, chunks: Sequence[Chunk]) -> ArticleKnowledge:
    """Key points and named things of one article (``chunks``: its chunks, for citations). Pure."""
    return ArticleKnowledge(article.source, article.title, article.hash, key_points(article, chunks), mentions(article, chunks))


# --- records --------------------------------------------------------------------------------
def _rid(*parts: object) -> str:
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()[:32]


MAX_NAMES = 60  # per article, most mentioned first


def to_records(k: ArticleKnowledge, sections: Sequence[str] = ()) -> list[tuple[str, str, dict[str, Any], str]]:
    """``(id, document, metadata, text to embed)`` for the store: the article (title, headings),
    its names (a separate record, read only by questions about named things), then its points.
    Only points are embedded; the indexer gives the other two their points' centroid."""
    names = [[m.name, m.count, [list(x) for x in m.kinds], m.sentence[:200], m.chunk_id] for m in k.mentions[:MAX_NAMES]]
    article = (
        "a:" + _rid(k.source, k.article_hash),
        k.title,
        {"kind": "article", "source": k.source, "title": k.title, "article_hash": k.article_hash,
         "points": len(k.points), "sections": json.dumps(list(dict.fromkeys(sections)), ensure_ascii=False)},
        k.title,
    )
    named = (
        "n:" + _rid(k.source, k.article_hash),
        "",
        {"kind": "names", "source": k.source, "article_hash": k.article_hash, "names": json.dumps(names, ensure_ascii=False)},
        "",
    )
    points = [
        ("p:" + _rid(k.source, k.article_hash, p.order, p.text), p.text,
         {"kind": "point", "source": k.source, "title": k.title, "article_hash": k.article_hash,
          "section": p.section, "order": p.order, "start": p.start, "end": p.end, "score": p.score,
          "chunk_id": p.chunk_id},
         p.embedding_text())
        for p in k.points
    ]
    return [article, named, *points]


def point_from_record(text: str, meta: dict[str, Any]) -> KeyPoint:
    return KeyPoint(
        text=text,
        section=str(meta.get("section", "")),
        order=int(meta.get("order", 0)),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        score=float(meta.get("score", 0.0)),
        chunk_id=str(meta.get("chunk_id", "")),
    )


def _json_list(text: object) -> list[Any]:
    try:
        value = json.loads(str(text or "[]"))
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def sections_from_record(meta: dict[str, Any]) -> tuple[str, ...]:
    """The headings listed in an article record."""
    return tuple(str(h) for h in _json_list(meta.get("sections")))


def mentions_from_record(meta: dict[str, Any]) -> tuple[Mention, ...]:
    """The names listed in a names record."""
    return tuple(
        Mention(str(n[0]), int(n[1]), tuple((str(k), float(w)) for k, w in n[2]), str(n[3]), str(n[4]))
        for n in _json_list(meta.get("names"))
        if isinstance(n, list) and len(n) == 5
    )
