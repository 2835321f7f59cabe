"""Answers about the whole collection, comparisons and article summaries, from article knowledge.

``CollectionAnswerer.answer(question, shape)`` returns an ``Answer`` (or None when the index has
no article knowledge yet: the caller falls back to the ordinary engine). It never reads every
chunk: it reads the key points and named things made at index time (``index/knowledge.py``),
through the vector index of the same generation as the chunks.

- **collection** (trends, "what do the articles say about X", "do they agree"): map — each
  article's key points nearest the question (and, for a named X, the sentence where each article
  mentions it); reduce — points of different articles that say the same thing are grouped
  (``grouping.group``) and listed by how many articles make them, every article cited.
- **collection, named things** ("which frameworks do the articles mention most often"): the
  names each article calls a framework, counted per article (``grouping.count_names``);
  "which articles mention X": the articles whose names include X.
- **comparison**: passages retrieved for each side separately; each side's sentences that name
  it, side by side in a Markdown table, rows paired by similarity, every cell cited.
- **summary**: the article whose title and content match the target best; its key points in
  reading order, under their headings, cited.

Every sentence comes verbatim from an article and every ``[n]`` is the chunk it stands in.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.citations import attach_citation
from assistant.grouping import Evidence, count_names, group, label, rank, table, unit
from assistant.models import Answer, Citation, Passage
from assistant.shapes import Shape
from corpus.text import sentence_spans
from index.keyword import tokenize_query
from index.knowledge import Mention, mentions_from_record, name_key, point_from_record, sections_from_record, singular

__all__ = ["CollectionAnswerer", "focus", "unknown_names"]

NOT_COVERED = "The articles do not cover this question, so I cannot answer it from them."

_ASKING = re.compile(
    r"\b(?:what|which|how|do|does|did|is|are|the|these|all|both|of|articles?|posts?|documents?|sources?|authors?|"
    r"say|says|said|write|mention|mentions|mentioned|discuss|discussed|most|often|frequently|commonly|agree|disagree|"
    r"about|on|regarding|many|any|"
    # what asks for the articles' views rather than naming a subject: "what trends do they expect"
    r"trends?|predict|predicts|prediction|predictions|expect|expects|expected|shape|shaping|future|main|key|"
    r"themes?|topics?|points?|ideas?|takeaways?|views?|overall|general|common|in common)\b",
    re.I,
)
_MARKER = re.compile(r"\s?\[\s*\d{1,3}\s*\]")  # an article's own "[n]": data, not a citation
_NAME = re.compile(r"[A-Z][\w.+#]*(?:\s+[A-Z][\w.+#]*)*|[a-z]+[A-Z][\w.+#]*")


def unknown_names(question: str, known: Any) -> list[str]:
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


# a question for the articles' overall view: their trends, themes, predictions, main points
_OVERVIEW = re.compile(
    r"\b(?:trends?|themes?|predict\w*|expect\w*|future|main|key points|takeaways?|in common|overall|agree|disagree|consensus)\b", re.I
)


def focus(question: str) -> str:
    """What a collection question is about, without the words that ask it ("What do the
    articles say about Rust?" -> "Rust"); the question itself when nothing is left. Pure."""
    rest = " ".join(_ASKING.sub(" ", question.rstrip("?.! ")).split())
    rest = re.sub(r"^(?:to|for|in|of|with|by)\s+", "", rest, flags=re.I)
    return rest if len(rest) >= 2 else question


@dataclass
class _Catalog:
    """The light article records of one generation: titles and headings (names on demand)."""

    generation: int
    titles: dict[str, str]
    generic: set[str]
    centroid: np.ndarray | None = None  # what the collection as a whole is about
    names: dict[str, tuple[Mention, ...]] | None = None
    title_tokens: dict[str, frozenset[str]] | None = None  # made on demand (summaries)
    name_keys: set[str] | None = None


class _Citer:
    """Numbers cited chunks in order of first use; each citation keeps the sentences quoted."""

    def __init__(self, chunk: Any):
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
                                  publisher=getattr(chunk, "publisher", None), date=getattr(chunk, "date", None)))
            passages.append(Passage(chunk_id=cid, text=text, title=title, source=source, section=section, score=score,
                                    start=getattr(chunk, "start", 0), end=getattr(chunk, "end", 0)))
        return tuple(cites), tuple(passages)


class CollectionAnswerer:
    """Collection-wide, comparison and summary answers (see the module docstring).

    ``components``: the assistant's (``retriever`` with its pinned store, ``keyword``,
    ``query_embedder``), looked up at each question since a re-index swaps them.
    """

    name = "extractive"

    def __init__(
        self,
        components: Any,
        min_relevance: float = 0.35,
        same_point: float = 0.55,
        max_groups: int = 8,
        per_article: int = 10,
        per_article_broad: int = 30,
        relevance_margin: float = 0.3,
        broad_floor: float = 0.2,
        broad: float = 0.55,
        framing: float = 0.65,
        quotes_per_point: int = 3,
        candidate_points: int = 200,
        candidate_passages: int = 10,
        named_bonus: float = 0.15,
        keyword_hits: int = 50,
        distinctive_idf: float = 1.4,
        max_names: int = 8,
        cites_per_name: int = 6,
        summary_points: int = 20,
        side_sentences: int = 4,
    ):
        self._c = components
        self.min_relevance = min_relevance
        self.same_point = same_point
        self.max_groups = max_groups
        self.per_article = per_article
        self.relevance_margin = relevance_margin
        self.per_article_broad = per_article_broad
        self.broad_floor = broad_floor
        self.broad = broad
        self.framing = framing
        self.quotes_per_point = quotes_per_point
        self.candidate_points = candidate_points
        self.candidate_passages = candidate_passages
        self.named_bonus = named_bonus
        self.keyword_hits = keyword_hits
        self.distinctive_idf = distinctive_idf
        self.max_names = max_names
        self.cites_per_name = cites_per_name
        self.summary_points = summary_points
        self.side_sentences = side_sentences
        self._catalog: _Catalog | None = None
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def _store(self) -> Any:
        return self._c.retriever.store

    def available(self) -> bool:
        """True when the committed index has article knowledge."""
        return bool(self._store.has_knowledge)

    def _chunk(self, chunk_id: str) -> Any:
        chunk = self._c.keyword.chunk(chunk_id)
        if chunk is None:
            found = self._store.get([chunk_id])
            chunk = found[0] if found else None
        return chunk

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of answer sentences (the query model), remembered across questions (LRU)."""
        embedder = self._c.query_embedder
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = {t: np.asarray(v, dtype=np.float32) for t, v in zip(missing, embedder.embed_documents(missing))} if missing else {}
        with self._lock:
            out = [fresh[t] if t in fresh else self._vectors.get(t) for t in texts]
            self._vectors.update(fresh)
            for t in texts:
                if t in self._vectors:
                    self._vectors.move_to_end(t)
            while len(self._vectors) > 5000:
                self._vectors.popitem(last=False)
        out = [v if v is not None else np.asarray(embedder.embed_documents([t])[0], dtype=np.float32) for v, t in zip(out, texts)]
        return np.vstack(out) if out else np.zeros((0, 1), dtype=np.float32)

    def _query_vector(self, text: str) -> np.ndarray:
        v = np.asarray(self._c.query_embedder.embed_query(text), dtype=np.float32)
        return v / (np.linalg.norm(v) or 1.0)

    def catalog(self) -> _Catalog:
        store = self._store
        gen = int(store.generation)
        with self._lock:
            if self._catalog is not None and self._catalog.generation == gen:
                return self._catalog
        titles: dict[str, str] = {}
        heading_counts: dict[str, int] = {}
        total: np.ndarray | None = None
        for _, _, meta, vec in store.knowledge_records(where={"kind": "article"}, vectors=True):
            v = np.asarray(vec, dtype=np.float32)
            total = v / (np.linalg.norm(v) or 1.0) + (total if total is not None else 0.0)
            source = str(meta.get("source", ""))
            titles[source] = str(meta.get("title", ""))
            for h in {re.sub(r"^\s*\d+[.)]\s*", "", s).strip(" :").lower() for s in sections_from_record(meta)}:
                heading_counts[h] = heading_counts.get(h, 0) + 1
        # a heading many articles use ("Conclusion") names no particular point
        generic = {h for h, n in heading_counts.items() if n >= max(3, 0.2 * len(titles))}
        centroid = total / (np.linalg.norm(total) or 1.0) if total is not None else None
        cat = _Catalog(gen, titles, generic, centroid)
        with self._lock:
            self._catalog = cat
        return cat

    def _names(self, cat: _Catalog) -> dict[str, tuple[Mention, ...]]:
        """Every article's names (read once per generation, on the first question that needs them)."""
        if cat.names is None:
            cat.names = {str(m.get("source", "")): mentions_from_record(m) for _, _, m, _ in self._store.knowledge_records(where={"kind": "names"})}
            cat.name_keys = {name_key(m.name) for ms in cat.names.values() for m in ms}
        return cat.names

    def _name_keys(self, cat: _Catalog) -> set[str]:
        self._names(cat)
        return cat.name_keys or set()

    def _title_tokens(self, cat: _Catalog) -> dict[str, frozenset[str]]:
        if cat.title_tokens is None:
            cat.title_tokens = {s: frozenset(tokenize_query(t)) for s, t in cat.titles.items()}
        return cat.title_tokens

    def _refuse(self, question: str, shape: Shape) -> Answer:
        return Answer(question=question, text=NOT_COVERED, refused=True, reason="not_covered", engine=self.name, shape=shape.name)

    def _unknown(self, text: str) -> list[str]:
        """Names in ``text`` that no article uses (neither the keyword index nor the names
        extracted at index time know them)."""
        knows = getattr(self._c.keyword, "knows", None)
        unknown = unknown_names(" " + text, lambda w: knows is not None and bool(knows(w)))
        if not unknown:
            return []
        names = self._name_keys(self.catalog())  # "Go": a stopword to the keyword index, a name here
        return [w for w in unknown if name_key(w) not in names]

    # -- entry point ------------------------------------------------------------------------
    def answer(self, question: str, shape: Shape) -> Answer | None:
        """The answer of a collection, comparison or summary ``shape``; None without knowledge."""
        if shape.name not in ("collection", "comparison", "summary") or not self.available():
            return None
        asked = " ".join(shape.sides) if shape.name == "comparison" else shape.target if shape.name == "summary" else focus(question)
        if self._unknown(asked):
            return self._refuse(question, shape)
        if shape.name == "comparison":
            return self._comparison(question, shape)
        if shape.name == "summary":
            return self._summary(question, shape)
        cat = self.catalog()
        if re.search(r"\b(?:which|what|how many)\s+(?:of the\s+)?(?:articles|posts|documents|sources)\b", question, re.I):
            named = self._named_in(question, cat)
            named = named or self._spelled_in(question)
            if named:
                return self._articles_naming(question, shape, cat, named)
        if shape.entity:
            counted = count_names(self._names(cat), shape.entity)
            if len(counted) >= 2 and len(counted[0].sources) >= 1:
                return self._name_counts(question, shape, cat, counted)
        return self._points(question, shape, cat)

    # -- collection: points ------------------------------------------------------------------
    def _named_in(self, question: str, cat: _Catalog) -> list[str]:
        """Name keys of the question that some article names ("Deno", "Spring Boot")."""
        runs = [m.group(0).split() for m in _NAME.finditer(question) if m.start() > 0]
        if not runs:
            return []
        known = self._name_keys(cat)
        out: list[str] = []
        for words in runs:
            for size in range(len(words), 0, -1):  # the longest known run of words
                for i in range(len(words) - size + 1):
                    key = name_key(" ".join(words[i : i + size]))
                    if key in known and key not in out and not any(key in o for o in out):
                        out.append(key)
        return out

    def _evidence(self, topic: str, qv: np.ndarray, cat: _Catalog, keys: list[str], broad: bool) -> list[Evidence]:
        """The map step: key points near the topic (from every article, through the knowledge
        index); unless the question is broad, also the sentences of the best passages that share
        a word with it and, for named things, the sentence where each article names them."""
        out = []
        for _, text, meta, sim, vec in self._store.knowledge_nearest(qv, self.candidate_points, where={"kind": "point"}):
            p = point_from_record(text, meta)
            out.append(Evidence(p.text, str(meta.get("source", "")), str(meta.get("title", "")), p.section, p.chunk_id, sim, np.asarray(vec, dtype=np.float32), p.order))
        if broad:
            return out
        words = self._distinctive(tokenize_query(topic))
        pattern = [_mention_pattern(k) for k in keys]
        raw: list[tuple[Passage, str]] = []
        for p in self._c.retriever.retrieve(topic, k=self.candidate_passages):
            # a passage under a heading about the topic speaks of it in every sentence
            about = bool(words & frozenset(tokenize_query(p.section))) or any(x.search(p.section) for x in pattern)
            for sentence in _sentences(p.text):
                if about or words & frozenset(tokenize_query(sentence)) or any(x.search(sentence) for x in pattern):
                    raw.append((p, sentence))
        seen = {e.text for e in out}
        raw = [(p, s) for p, s in raw if s not in seen]
        for (p, sentence), v in zip(raw, self._embed([s for _, s in raw])):
            v = v / (np.linalg.norm(v) or 1.0)
            bonus = self.named_bonus if any(x.search(sentence) or x.search(p.section) for x in pattern) else 0.0
            out.append(Evidence(sentence, p.source, p.title, p.section, p.chunk_id, float(v @ qv) + bonus, v, on_topic=True))
        return _dedupe(out + self._mention_evidence(keys, cat, qv))

    def _distinctive(self, tokens: list[str]) -> frozenset[str]:
        """The tokens that mark a passage as on the topic: those in at most a quarter of the
        chunks ("framework" in a collection about frameworks says nothing)."""
        idf = getattr(self._c.keyword, "idf", None)
        if idf is None or not tokens:
            return frozenset(tokens)
        return frozenset(t for t, v in idf(tokens).items() if v >= self.distinctive_idf)

    def _spelled_in(self, question: str) -> list[str]:
        """Capitalised words of the question (past its first) that the keyword index knows."""
        knows = getattr(self._c.keyword, "knows", None)
        words = re.findall(r"[A-Za-z][\w+#.]*", question)[1:]
        return [w for w in words if w[:1].isupper() and knows is not None and knows(w)]

    def _points(self, question: str, shape: Shape, cat: _Catalog) -> Answer:
        topic = focus(question)
        qv = self._query_vector(topic)
        keys = self._named_in(question, cat)
        # how much the question is about what every article is about ("trends in backend
        # development" in a collection on backend trends): a broad one is answered with the
        # themes the articles share, a narrow one with what they say about its subject
        breadth = float(qv @ cat.centroid) if cat.centroid is not None else 0.0
        subject = [t for t in tokenize_query(topic) if not t.isdigit()]
        broad = bool(_OVERVIEW.search(question)) and not keys and (not subject or breadth >= self.broad)
        evidence = self._evidence(topic, qv, cat, keys, broad)
        if not evidence or (not keys and max(e.relevance for e in evidence) < self.min_relevance):
            return self._refuse(question, shape)
        if cat.centroid is not None:  # a sentence more generic than the question adds nothing to it
            generic = max(breadth, self.framing)
            evidence = [e for e in evidence if float(unit(e.vector) @ cat.centroid) < generic] or evidence
        top = max(e.relevance for e in evidence)
        floor = self.broad_floor if broad else max(self.min_relevance, top - self.relevance_margin)
        per_article = self.per_article_broad if broad else self.per_article
        kept: dict[str, list[Evidence]] = {}
        for e in sorted(evidence, key=lambda e: -e.relevance):
            # a sentence that names the subject (or sits under a heading that does) is about it
            # however its vector compares; the others must come close to the best
            if (e.on_topic or e.relevance >= floor) and len(kept.setdefault(e.source, [])) < per_article:
                kept[e.source].append(e)
        groups = rank(group([e for es in kept.values() for e in es], self.same_point))[: self.max_groups]
        citer = _Citer(self._chunk)
        titles = {t.lower() for t in cat.titles.values()}
        total = len(cat.titles)
        lines = [f"What the articles say, the points most of them make first ({total} articles in all):", ""]
        for g in groups:
            marks = ""
            firsts = []
            for source in g.sources:
                m = next(x for x in g.members if x.source == source)
                firsts.append(m)
                marks += f"[{citer.cite(m.chunk_id, m.source, m.title, m.section, m.text, m.relevance)}]"
            said = " ".join(
                attach_citation(_MARKER.sub("", m.text), citer.cite(m.chunk_id, m.source, m.title, m.section, m.text, m.relevance))
                for m in firsts[: self.quotes_per_point]
            )
            name = label(g, cat.generic, titles)
            head = f"**{name}** — " if name else ""
            count = f"{len(g.sources)} of {total} articles"
            lines.append(f"- {head}{count} {marks}: {said}")
        return self._finish(question, shape, "\n".join(lines), citer)

    def _mention_evidence(self, keys: list[str], cat: _Catalog, qv: np.ndarray) -> list[Evidence]:
        """For named things in the question: the sentence where each article names them."""
        if not keys:
            return []
        found = []
        for source, ms in self._names(cat).items():
            for m in ms:
                if name_key(m.name) in keys and m.chunk_id:
                    found.append((source, m))
        if not found:
            return []
        vectors = self._embed([m.sentence for _, m in found])
        out = []
        for (source, m), v in zip(found, vectors):
            v = v / (np.linalg.norm(v) or 1.0)
            chunk = self._chunk(m.chunk_id)
            out.append(Evidence(m.sentence, source, cat.titles.get(source, ""), getattr(chunk, "section", ""), m.chunk_id, float(v @ qv) + self.named_bonus, v, on_topic=True))
        return out

    # -- collection: named things ---------------------------------------------------------------
    def _name_counts(self, question: str, shape: Shape, cat: _Catalog, counted: list[Any]) -> Answer:
        citer = _Citer(self._chunk)
        total = len(cat.titles)
        kind = shape.entity
        lines = [f"The {kind} the articles name, by how many articles name them ({total} articles in all):", ""]
        for c in counted[: self.max_names]:
            shown = sorted((x for x in c.by_source if x[1].chunk_id), key=lambda x: -x[1].count)[: self.cites_per_name]
            marks = "".join(f"[{citer.cite(m.chunk_id, s, cat.titles.get(s, ''), '', m.sentence)}]" for s, m in shown)
            more = f" and {len(c.sources) - len(shown)} more" if len(c.sources) > len(shown) else ""
            lines.append(f"- **{c.name}** — {len(c.sources)} of {total} articles {marks}{more}")
        return self._finish(question, shape, "\n".join(lines), citer)

    def _articles_naming(self, question: str, shape: Shape, cat: _Catalog, keys: list[str]) -> Answer:
        names = self._names(cat)
        citer = _Citer(self._chunk)
        total = len(cat.titles)
        lines = []
        for key in keys:
            found = {s: m for s, ms in names.items() for m in ms if name_key(m.name) == key and m.chunk_id}
            shown = next(iter(found.values())).name if found else key
            # the keyword index finds the articles where the name was not extracted (a lone
            # sentence-initial "Deno"): its chunks that spell it out
            pattern = _mention_pattern(shown)
            for chunk, _ in self._c.keyword.search(shown, self.keyword_hits):
                if chunk.source in found:
                    continue
                spots = [x for x in _sentences(chunk.text) if pattern.search(x)]
                if spots:
                    found[chunk.source] = Mention(shown, len(pattern.findall(chunk.text)), (), spots[0], chunk.id)
            hits = list(found.items())
            if not hits:
                continue
            lines.append(f"{len(hits)} of {total} articles mention **{shown}**:")
            lines.append("")
            for s, m in sorted(hits, key=lambda h: -h[1].count):
                n = citer.cite(m.chunk_id, s, cat.titles.get(s, ""), "", m.sentence)
                lines.append(f"- *{cat.titles.get(s, s)}* ({m.count}×): {attach_citation(_MARKER.sub('', m.sentence), n)}")
            lines.append("")
        if not lines:
            return self._refuse(question, shape)
        return self._finish(question, shape, "\n".join(lines).strip(), citer)

    # -- comparison --------------------------------------------------------------------------------
    def _side_candidates(self, side: str, other: str, context: str) -> list[tuple[float, Passage, str, np.ndarray]]:
        query = f"{side} {context}".strip()
        passages = self._c.retriever.retrieve(query, k=8)
        pattern = _mention_pattern(side)
        other_pattern = _mention_pattern(other)
        raw: list[tuple[Passage, str]] = []
        for p in passages:
            about_side = bool(pattern.search(p.section))
            for sentence in _sentences(p.text):
                if pattern.search(sentence) or (about_side and not other_pattern.search(sentence)):
                    raw.append((p, sentence))
        merged = {s for _, s in raw}
        raw = [(p, s) for p, s in raw if not any(o != s and o.startswith(s + " ") for o in merged)]  # keep "X ... It ..." only
        if not raw:
            return []
        qv = self._query_vector(query)
        vectors = self._embed([s for _, s in raw])
        out = []
        for (p, s), v in zip(raw, vectors):
            v = v / (np.linalg.norm(v) or 1.0)
            score = float(v @ qv) + (0.1 if pattern.search(s) else 0.0) - (0.15 if other_pattern.search(s) else 0.0)
            out.append((score, p, s, v))
        return sorted(out, key=lambda x: -x[0])

    def _pick(self, candidates: list[tuple[float, Passage, str, np.ndarray]]) -> list[tuple[float, Passage, str, np.ndarray]]:
        chosen: list[tuple[float, Passage, str, np.ndarray]] = []
        per_source: dict[str, int] = {}
        for c in candidates:
            if len(chosen) >= self.side_sentences:
                break
            if per_source.get(c[1].source, 0) >= 2 or any(float(c[3] @ x[3]) > 0.85 for x in chosen):
                continue
            chosen.append(c)
            per_source[c[1].source] = per_source.get(c[1].source, 0) + 1
        return chosen

    def _comparison(self, question: str, shape: Shape) -> Answer:
        a, b = shape.sides[0], shape.sides[1]
        context = _context(question, shape.sides)
        left = self._pick(self._side_candidates(a, b, context))
        right = self._pick(self._side_candidates(b, a, context))
        if not left and not right:
            return self._refuse(question, shape)
        # pair rows: the most similar left/right sentences side by side
        pairs: list[tuple[int | None, int | None]] = []
        free_r = list(range(len(right)))
        for i in range(len(left)):
            if free_r:
                j = max(free_r, key=lambda j: float(left[i][3] @ right[j][3]))
                free_r.remove(j)
                pairs.append((i, j))
            else:
                pairs.append((i, None))
        pairs += [(None, j) for j in free_r]
        citer = _Citer(self._chunk)

        def cell(item: tuple[float, Passage, str, np.ndarray] | None) -> str:
            if item is None:
                return "—"
            _, p, s, _ = item
            n = citer.cite(p.chunk_id, p.source, p.title, p.section, s, p.score)
            return attach_citation(_MARKER.sub("", s), n)

        rows = [[cell(left[i] if i is not None else None), cell(right[j] if j is not None else None)] for i, j in pairs]
        notes = [f"The articles say nothing specific about {side}." for side, got in ((a, left), (b, right)) if not got]
        text = f"{a} and {b}, side by side:\n\n" + table([a, b], rows)
        if notes:
            text += "\n\n" + " ".join(notes)
        return self._finish(question, shape, text, citer)

    # -- summary ----------------------------------------------------------------------------------
    def _summary(self, question: str, shape: Shape) -> Answer:
        cat = self.catalog()
        if not cat.titles:
            return self._refuse(question, shape)
        target = shape.target
        tokens = frozenset(tokenize_query(target))
        title_tokens = self._title_tokens(cat)
        qv = self._query_vector(target)
        content = {str(meta.get("source", "")): sim for _, _, meta, sim, _ in self._store.knowledge_nearest(qv, 20, where={"kind": "article"})}
        best_point: dict[str, float] = {}
        for _, _, meta, sim, _ in self._store.knowledge_nearest(qv, 60, where={"kind": "point"}):
            s = str(meta.get("source", ""))
            best_point[s] = max(best_point.get(s, 0.0), sim)

        def score(source: str) -> float:
            overlap = len(tokens & title_tokens.get(source, frozenset())) / max(1, len(tokens))
            return content.get(source, 0.0) + 0.5 * best_point.get(source, 0.0) + 0.6 * overlap

        source = max(cat.titles, key=score)
        if content.get(source, 0.0) < self.min_relevance and not tokens & title_tokens.get(source, frozenset()):
            return self._refuse(question, shape)
        records = self._store.knowledge_records(where={"$and": [{"kind": "point"}, {"source": source}]})
        points = _one_per_section(sorted((point_from_record(doc, meta) for _, doc, meta, _ in records), key=lambda p: -p.score), self.summary_points)
        if not points:
            return self._refuse(question, shape)
        title = cat.titles[source]
        citer = _Citer(self._chunk)
        lines = [f"**{title}** — its key points, in order:", ""]
        last = None
        for p in points:
            n = citer.cite(p.chunk_id, source, title, p.section, p.text, p.score)
            heading = re.sub(r"^\s*\d+[.)]\s*", "", p.section).strip()
            head = f"**{heading}**: " if heading and heading != last and heading.lower() not in cat.generic else ""
            last = heading
            lines.append(f"- {head}{attach_citation(_MARKER.sub('', p.text), n)}")
        return self._finish(question, shape, "\n".join(lines), citer)

    def _finish(self, question: str, shape: Shape, text: str, citer: _Citer) -> Answer:
        citations, passages = citer.citations()
        return Answer(question=question, text=text, citations=citations, passages=passages, engine=self.name, shape=shape.name)


_PRONOUN = re.compile(r"^(?:it|its|it’s|it's|they|their|them|this|these|that|those)\b", re.I)


def _sentences(text: str) -> list[str]:
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


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    """One piece of evidence per sentence of an article: the most relevant of the copies (a key
    point found again in a passage, a sentence kept again with the one before it)."""
    best: dict[tuple[str, str], Evidence] = {}
    for e in sorted(evidence, key=lambda e: (-e.relevance, -len(e.text))):
        key = (e.source, " ".join(e.text.split()))
        if key not in best:
            best[key] = e
    kept = list(best.values())
    return [e for e in kept if not any(o is not e and o.source == e.source and len(o.text) > len(e.text) and e.text in o.text and o.relevance >= e.relevance - 0.1 for o in kept)]


def _one_per_section(points: list[Any], limit: int) -> list[Any]:
    """Up to ``limit`` points, every section's best first, then seconds; in reading order."""
    firsts, rest, seen = [], [], set()
    for p in points:  # best first
        (rest if p.section in seen else firsts).append(p)
        seen.add(p.section)
    return sorted((firsts + rest)[:limit], key=lambda p: p.order)


def _mention_pattern(side: str) -> re.Pattern[str]:
    """Matches a side's name in text: its words in order, word-bounded; "Node.js" also as "Node"."""
    core = re.sub(r"\.js$", "", side.strip(), flags=re.I)
    words = [re.escape(w) for w in core.split()]
    flags = 0 if any(ch.isupper() for ch in core) else re.I
    return re.compile(r"(?<![\w.])" + r"\s+".join(words) + r"(?:\.js)?(?![\w])", flags)


def _context(question: str, sides: Sequence[str]) -> str:
    """The words of a comparison that are neither a side nor comparison wording ("for backends")."""
    rest = question
    for side in sides:
        rest = re.sub(re.escape(side), " ", rest, flags=re.I)
    rest = re.sub(r"\b(?:compare|comparison|contrast|versus|vs\.?|difference|differences|between|differ|how|does|do|is|are|the|what|and|with|to|or|which|better|should|i|use|from)\b", " ", rest, flags=re.I)
    return " ".join(re.sub(r"[?,.!]", " ", rest).split())
