"""The extractive answer engine: no LLM, the articles' own sentences, each cited.

1. **Refuse or answer** from the evidence (``assistant.evidence``): are the question's focus
   terms — its names and specific words — in the passages that would be cited and in the
   documents it is limited to? A logistic gate over those coverages and the best cosine decides.
2. **Sentences that answer**: every sentence of the best passages is scored by its cosine to the
   question, the question words it holds and the new content it brings (words, names and
   numbers the question does not already contain); a sentence that only asks a question scores
   low. The best one leads the answer.
3. **What follows it** (``assistant.follows``): a lead-in ("The requirements were:") brings the
   items it introduces, as a list; a short sentence or one whose successor leans on it ("It ...",
   "This ...") brings the next sentence; a question line or a label brings what follows it (a
   transcript's next turns, into the next chunk if need be); a how-to question brings the steps
   its passage lists; on a Q&A page the section asking the question opens the answer; for
   "Which/Who ...?" (not a list) a lead that names nothing brings the next sentence when that one
   names something and holds a question word ("Time-series databases ... IoT" / "InfluxDB ...").
4. **More of the same**: further sentences close in score to the first that add question words
   or new content, within a length budget — not one that says again what a chosen sentence says
   (cosine ≥ 0.7), nor one that opens with a pronoun in a passage the answer does not cite yet;
   for a list question (``shapes.classify``) up to 12 items from the passages that answer, as a
   bulleted list ("Which companies ...?": the items that name someone or something, when two do;
   "... use Go ...?": the items from passages about Go). Each sentence or item carries ``[n]``.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from assistant.collection_text import mention_pattern
from assistant.engines import stream_of
from assistant.asks import asks_for_parts, asks_who, unanswered_ask
from assistant.evidence import Evidence, GateWeights, answerability, focus_terms, gather_evidence, holds_names, names_new, number_phrases
from assistant.follows import (Following, introduces_answer, is_lead_in, items_after, more_after, next_sentence, paragraph_rest,
                               sentence_after, steps_lead)
from assistant.models import Answer, Citation, Passage, StreamEvent
from assistant.numbered import Item, best_run, numbered_runs
from assistant.rendering import render
from assistant.sentences import (
    CONTINUES,
    PRONOUN_START,
    Candidate,
    asks,
    defined_term,
    defines,
    each_side,
    instructs,
    is_label,
    phrase_match,
    same_sentence,
    select_sentences,
    span_of,
    version_match,
    versions_in,
    with_section,
)
from corpus.chunking import SUBSECTION
from corpus.text import sentence_spans
from index.embedding import Embedder
from index.keyword import tokenize_many, tokenize_query

__all__ = ["ExtractiveEngine", "NOT_COVERED"]

NOT_COVERED = "The articles do not cover this question, so I cannot answer it from them."
NO_NUMBER = "The closest passages do not state the number asked for, so I cannot answer it from them."
NO_NAME = "The closest passages do not name who or what is asked for, so I cannot answer it from them."
NO_DATE = "The closest passages do not state the date or year asked for, so I cannot answer it from them."
Present = Callable[[Iterable[str], frozenset[str] | None], set[str]]
Article = Callable[[str], "list[Passage]"]
_COUNT = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+(?:main\s+|key\s+|different\s+)?[a-z]+s\b", re.I)
_HOW_TO = re.compile(r"^\W*(?:how\s+(?:do|can|could|should|would|does|must)\s+(?:i|you|we|one)\b|how\s+to\b)", re.I)
_WHICH = re.compile(r"^\s*(which|who)\b", re.I)
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


class ExtractiveEngine:
    """Picks, cites and strings together the sentences that answer the question best.

    ``gate``: the evidence gate's weights (None: only ``min_relevance``, a floor on the best
    cosine, decides refusals). ``present(tokens, sources)``: the tokens the index holds in
    ``sources`` (None: everywhere); ``following(passage)``: the article text after a passage.
    """

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        min_relevance: float = 0.0,
        max_sentences: int = 4,
        max_passages: int = 5,
        gate: GateWeights | None = None,
        present: Present | None = None,
        following: Following | None = None,
        max_chars: int = 700,
    ):
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences
        self.max_passages = max_passages
        self.gate = gate
        self.present = present
        self.following = following
        self.article: Article | None = None  # an article's chunks in reading order (numbered lists)
        self.max_chars = max_chars
        self.novelty_weight = 0.15
        self.question_penalty = 0.3
        self.list_ratio = 0.7  # a list item scores at least this share of the best sentence
        self.phrase_bonus = 0.3  # the sentence holds the question's number phrase ("day 2", "step 5")
        self.new_passage_penalty = 0.05  # a sentence from a passage not cited yet must score this much more
        self.max_items = 12  # "What are all ...?" asks for the whole list (8 items at ratio 0.8 in 1.6x left lists short)
        self.list_chars = 2.4  # a list's length budget, in multiples of ``max_chars``
        self.redundancy = 0.7  # a further sentence this close (cosine) to one already chosen adds nothing
        self.follow_up_weight = 0.5  # a follow-up's own words against the query with the turn before
        self.faq_similarity = 0.7  # a question heading this close to the question introduces its answer
        self.named_items = True
        self.who_bonus = 0.2  # a who-question, and the sentence names someone the question does not
        self.min_chars = 200  # an answer shorter than this brings the rest of its lead's paragraph, up to this
        self.parts_ratio = 0.5  # a question of many parts: sentences down to this share of the best one's score ...
        self.parts_budget = 1.5  # ... and this many times the sentences and characters
        self.per_side = 2  # a comparison limited to one document: sentences about each side, at least
        self.compound_bonus = 0.2  # the sentence holds the question's hyphenated name whole ("Self-RAG")
        self.instruction_bonus = 0.2  # a how-to question, and the sentence says what to do
        self.names_after = True  # "Which ...?": the next sentence names what a lead that names nothing does not
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    _CACHE_SIZE = 20_000

    def _sentence_vectors(self, sentences: list[str]) -> np.ndarray:
        """Embeddings of passage sentences, remembered (LRU): popular passages come back."""
        with self._cache_lock:
            missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        if missing:
            fresh = np.asarray(self.embedder.embed_documents(missing), dtype=np.float32)
            with self._cache_lock:
                for text, vector in zip(missing, fresh):
                    self._cache[text] = vector
                while len(self._cache) > self._CACHE_SIZE:
                    self._cache.popitem(last=False)
        with self._cache_lock:
            out = []
            for s in sentences:
                vector = self._cache.get(s)
                if vector is None:  # evicted by another thread meanwhile
                    vector = np.asarray(self.embedder.embed_documents([s])[0], dtype=np.float32)
                else:
                    self._cache.move_to_end(s)
                out.append(vector)
        return np.vstack(out)

    def similarities(self, query: str, sentences: list[str]) -> np.ndarray:
        """Cosine of each sentence to ``query`` (sentence vectors from the LRU cache)."""
        sentence_vectors = self._sentence_vectors(sentences)
        qv = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        return sentence_vectors @ qv / (np.linalg.norm(sentence_vectors, axis=1) * np.linalg.norm(qv) + 1e-9)

    def _repeats(self, candidates: Sequence[Candidate]) -> Callable[[Candidate, Sequence[Candidate]], bool] | None:
        """``repeats(c, picked)``: does ``c`` say again what a chosen sentence says ("Stardew Valley
        1.04 was released on 1 March 2016" after "... 1.0 was released on 26 February 2016")?
        Cosine ≥ ``redundancy``; the candidates' vectors are normalised once."""
        if self.redundancy >= 1:
            return None
        unit: dict[str, np.ndarray] = {}

        def vector(text: str) -> np.ndarray:
            if text not in unit:
                v = self._sentence_vectors([text])[0]
                unit[text] = v / (np.linalg.norm(v) + 1e-9)
            return unit[text]

        texts = list(dict.fromkeys(c.text for c in candidates))
        if texts:
            vs = self._sentence_vectors(texts)
            unit.update(zip(texts, vs / (np.linalg.norm(vs, axis=1, keepdims=True) + 1e-9)))
        return lambda c, picked: any(float(vector(c.text) @ vector(x.text)) >= self.redundancy for x in picked)

    def _refuse(self, question: str, passages: Sequence[Passage], reason: str = "not_covered", related: Sequence[Passage] = ()) -> Answer:
        text = {"no_number": NO_NUMBER, "no_name": NO_NAME, "no_date": NO_DATE}.get(reason, NOT_COVERED)
        return Answer(question=question, text=text, refused=True, reason=reason, passages=tuple(passages), engine=self.name,
                      related=tuple(Citation.of(n, p) for n, p in enumerate(related, start=1)))

    def candidates(self, query: str, passages: Sequence[Passage], question: str | None = None) -> tuple[list[Candidate], float]:
        """Scored sentences of the passages, and the best sentence cosine. A follow-up's
        ``question`` (when the retrieval ``query`` adds the turn before) counts half: the
        sentence that answers what is asked now leads, not the one about the earlier turn."""
        question_tokens = frozenset(tokenize_query(query))
        phrases = number_phrases(query)  # "day 2"
        versions = versions_in(query)  # "1.6.8"
        asked = question or query
        term = defined_term(asked)  # "What's txakoli?": a sentence that defines it answers
        # "What does Self-RAG do?": its parts are everywhere ("RAG"), only the whole name finds the sentences about it
        compounds = [t.word.lower() for t in focus_terms(asked) if t.name and "-" in t.word.strip("-")]
        how_to = bool(_HOW_TO.match(asked))  # "How do I cache ...?": "Use functools to cache ..." answers
        who = bool(self.who_bonus and asks_who(asked))
        raw: list[tuple[int, int, int, int, str]] = []
        for pi, p in enumerate(passages):
            spans = sentence_spans(p.text)
            for si, (a, b) in enumerate(spans):
                sentence = p.text[a:b]
                label = is_label(sentence)
                if not label and (len(sentence) < 25 or len(sentence.split()) < 4):
                    continue
                if PRONOUN_START.match(sentence) and si > 0:
                    a = spans[si - 1][0]  # keep the sentence its pronoun points back to
                raw.append((pi, si, a, b, p.text[a:b].lstrip("- ").strip()))
        if not raw:
            return [], 0.0
        texts = [r[4] for r in raw]
        token_lists = tokenize_many(texts)  # one tokenizer call for the sentences not seen before
        sims = self.similarities(query, texts)
        if question and question != query and self.follow_up_weight > 0:
            sims = (1 - self.follow_up_weight) * sims + self.follow_up_weight * self.similarities(question, texts)
        out = []
        for (pi, si, a, b, sentence), sim, words in zip(raw, sims, token_lists):
            tokens = frozenset(words)
            overlap = len(tokens & question_tokens) / max(1, len(question_tokens))
            novelty = min(1.0, len(tokens - question_tokens) / 6.0)
            score = float(sim) + 0.35 * overlap + 0.03 * (len(passages) - pi) + self.novelty_weight * novelty \
                - (self.question_penalty if asks(sentence) else 0.0) \
                + self.phrase_bonus * (phrase_match(passages[pi].section, sentence, phrases) or version_match(passages[pi].section, sentence, versions)
                                       or float(defines(sentence, term))) \
                + (self.compound_bonus * sum(n in sentence.lower() for n in compounds) / len(compounds) if compounds else 0.0) \
                + (self.instruction_bonus if how_to and instructs(sentence) else 0.0) \
                + (self.who_bonus if who and names_new(sentence, asked) else 0.0)
            out.append(Candidate(pi, sentence, score, tokens, si, a, b, float(sim)))
        return out, float(sims.max())

    def evidence(self, question: str, query: str, passages: Sequence[Passage], relevance: float, sources: Iterable[str] | None = None,
                 answer: Answer | None = None) -> Evidence:
        """The refusal gate's features for this question, these passages and the answer composed
        from them (its text with the sections and titles of what it cites)."""
        scope = frozenset(sources) if sources is not None else None
        present = self.present
        lookup = (lambda tokens: present(tokens, scope)) if present is not None else (lambda tokens: set())
        texts = [f"{p.title}\n{p.section}\n{p.text}" for p in passages]
        said = None
        if answer is not None:
            said = "\n".join([answer.text] + [f"{c.title}\n{c.section}" for c in answer.citations])
        return gather_evidence(query or question, texts, relevance, lookup, said)

    def answer_stream(self, question: str, query: str, passages: Sequence[Passage], sources: Iterable[str] | None = None) -> Iterator[StreamEvent]:
        """``answer``, a sentence at a time (it is composed whole, then streamed)."""
        yield from stream_of(self.answer(question, query, passages, sources=sources))

    def answer(self, question: str, query: str, passages: Sequence[Passage], sources: Iterable[str] | None = None) -> Answer:
        top = list(passages[: self.max_passages])
        if not top:
            return self._refuse(question, passages)
        candidates, best_sentence = self.candidates(query, top, question)
        best_passage = max((p.dense_score for p in top if p.dense_score is not None), default=0.0)
        relevance = max(best_sentence, best_passage)
        if not candidates or relevance < self.min_relevance:
            return self._refuse(question, passages)
        composed = self.compose(question, query, top, candidates, passages)
        if self.gate is not None:
            found = self.evidence(question, query, top, relevance, sources, composed)
            if found.missing_names or answerability(found, self.gate) < 0.5:
                return self._refuse(question, passages)
            missing = unanswered_ask(question, composed.text, query)  # asked how many / who, told no number / no one
            if missing and found.passage_coverage < 0.999:  # the passages miss words of the question too
                return self._refuse(question, passages)
            if missing:  # they hold every word of it, but not the number or name asked for: worth a look
                cited = [p for p in top if any(c.chunk_id == p.chunk_id for c in composed.citations)][:3]
                return self._refuse(question, passages, missing, cited)
        return composed

    # -- composing ----------------------------------------------------------------------------
    def _lead(self, question: str, top: list[Passage], candidates: list[Candidate], ranked: list[Candidate]) -> tuple[Candidate, bool]:
        """The sentence the answer starts from, and whether it opens a section that asks the
        question: that section's first sentence on a Q&A page (before a question line elsewhere:
        the page's table of contents lists the same questions); else a sentence that asks the
        question itself (an FAQ's "What do the infrared scenes signify?": what follows it is the
        answer) when it is at least as close to it as the best sentence, within 0.05; else, for
        "What is X?", the best sentence that defines X; else the best-scored sentence."""
        section = self._faq_section(question, top, candidates)
        if section is not None:
            return section, True
        faq = max((c for c in candidates if asks(c.text)), key=lambda c: c.similarity, default=None)
        if faq is not None and faq.similarity >= max(self.faq_similarity, max(c.similarity for c in candidates) - 0.05):
            return faq, False
        term = defined_term(question)  # "What's txakoli?": "... txakoli (a lightly effervescent white wine ...)"
        defining = [c for c in ranked if defines(c.text, term)] if term else []
        return (defining[0] if defining else ranked[0]), False

    def _faq_section(self, question: str, top: list[Passage], candidates: list[Candidate]) -> Candidate | None:
        """The first sentence of the best passage whose section asks what the question asks
        ("Is NVLink worth getting?" under "What is NVLink, and is it useful?")."""
        leaves = ((pi, p.section.split(SUBSECTION)[-1]) for pi, p in enumerate(top))
        asking = [(pi, leaf) for pi, leaf in leaves if asks(leaf)]
        if not asking:
            return None
        sims = self.similarities(question, [s for _, s in asking])
        i = int(np.argmax(sims))
        if sims[i] < max(self.faq_similarity, max(c.similarity for c in candidates) - 0.05):
            return None
        firsts = [c for c in candidates if c.passage == asking[i][0]]
        return min(firsts, key=lambda c: c.position) if firsts else None

    def compose(self, question: str, query: str, top: list[Passage], candidates: list[Candidate], passages: Sequence[Passage]) -> Answer:
        from assistant.shapes import classify

        top = list(top)  # the next chunk of an answer that runs on may join (``follows.more_after``)
        qtokens = frozenset(tokenize_query(query))
        ranked = sorted(candidates, key=lambda c: -c.score)
        best, from_section = self._lead(question, top, candidates, ranked)
        items: list[tuple[str, Passage]] = []  # the items of a list, each with its passage
        chosen = [best]
        lead = best if is_lead_in(best.text) else None
        nxt = next_sentence(top[best.passage], best)
        after = Candidate(best.passage, nxt, best.score, frozenset(), best.position + 1, *span_of(top[best.passage].text, nxt, best.end)) \
            if nxt is not None else None
        if lead is None and after is not None and is_lead_in(after.text) and len(after.text) < 200:
            lead = after
            chosen.append(lead)
        if lead is None and _HOW_TO.match(question):  # "How do I keep the cable from melting?": the steps
            lead = steps_lead(top, ranked[:2], best, self.following, self.max_items)
            if lead is not None:
                chosen.append(lead)
        if lead is not None:
            items = items_after(top[lead.passage], lead, self.following, self.max_items)
        introduces = introduces_answer(best, top[best.passage].text, qtokens)
        shape = classify(question)
        is_list = shape.name == "list"
        # "Which database ...?": "Time-series databases have grown ... IoT" names none, "InfluxDB, TimescaleDB ..." after it does
        names_after = self.names_after and after is not None and bool(_WHICH.match(question)) and not is_list \
            and not names_new(best.text, question) and names_new(after.text, question) and bool(qtokens & set(tokenize_query(after.text)))
        if not items and after is not None and (introduces or len(best.text) < 80 or CONTINUES.match(after.text) or names_after):
            chosen.append(after)
            if introduces:
                chosen = chosen[1:] + more_after(top, chosen[-1], self.following)
            elif from_section:  # the opening of the answer its section heading asks for
                chosen += more_after(top, chosen[-1], self.following, enough=200 - len(best.text))
        elif not items and after is None and asks(best.text):  # a question heading that ends its passage
            beyond = sentence_after(top, best)
            chosen = [beyond] if beyond is not None else chosen
        run = self._numbered(question, top, shape.entity) if is_list else None  # before any lead-in: the whole run
        if run:  # the article numbers the items asked for ("What are the four steps ...?")
            chosen, items = [], [(i.line if not i.line[:1].isdigit() else i.text, i.passage) for i in run]
        if not items and is_list:
            spread = select_sentences(candidates, qtokens, self.max_items, int(self.max_chars * self.list_chars), ratio=self.list_ratio,
                                      new_passage_penalty=-0.05, chosen=chosen)
            if len({c.passage for c in spread}) >= 2:
                chosen = []
                sections = [top[pi].section for pi in {c.passage for c in spread}]  # one per passage
                items = [(with_section(c.text, top[c.passage]) if sections.count(top[c.passage].section) == 1 else c.text, top[c.passage])
                         for c in spread]
                if self.named_items and _WHICH.match(question):  # "Which companies ...?": the items that name one
                    named = [(t, p) for t, p in items if names_new(t, question)]
                    items = named if len(named) >= 2 else items
                about = [(t, p) for t, p in items if holds_names(question, f"{p.title}\n{p.section}\n{p.text}")]  # "... use Go ...?": items on Go
                items = about if len(about) >= 2 else items
        if not items:
            # "It is ideal for real-time apps" opening another passage: its "it" is that passage's subject, not the answer's
            candidates = [c for c in candidates if not PRONOUN_START.match(c.text) or any(c.passage == x.passage for x in chosen)]
            parts = asks_for_parts(question)  # "Where did it come from and what is it made of?"
            grow = self.parts_budget if parts else 1.0
            chosen = select_sentences(candidates, qtokens, int(self.max_sentences * grow), int(self.max_chars * grow),
                                      ratio=self.parts_ratio if parts else 0.72, new_passage_penalty=self.new_passage_penalty, chosen=chosen,
                                      redundant=self._repeats(candidates))
            chosen = self._answers_not_questions(top, chosen)
            if chosen and sum(len(c.text) for c in chosen) < self.min_chars:  # one short sentence: its paragraph goes on
                chosen += paragraph_rest(top[chosen[0].passage], chosen[0], chosen, self.min_chars)
            if shape.name == "comparison":  # limited to one document: each side's own sentence, not only one about both
                sides = [mention_pattern(side) for side in shape.sides]
                chosen += each_side(candidates, chosen, sides, [p.section for p in top], self.per_side)
        return render(question, top, chosen, items, passages, self.name)

    def _numbered(self, question: str, top: list[Passage], entity: str) -> list[Item] | None:
        """The numbered run of the best passage's article that the best passages are about —
        unless an item names what is asked ("What security features ...?" asks about the item
        "Built-In Security Features", not for the list it is in)."""
        if self.article is None or not top:
            return None
        m = _COUNT.search(question)
        count = (_COUNTS.get(m.group(1).lower()) or int(m.group(1))) if m and (m.group(1).isdigit() or m.group(1).lower() in _COUNTS) else None
        chunks = self.article(top[0].source)
        run = best_run(numbered_runs(chunks), [p for p in top if p.source == top[0].source], count) if chunks else None
        asked = frozenset(tokenize_query(entity))
        if run and asked and any(asked & frozenset(tokenize_query(i.text)) for i in run):
            return None
        return run

    def _answers_not_questions(self, top: list[Passage], chosen: list[Candidate]) -> list[Candidate]:
        """A chosen sentence that asks a question (a heading like "What do the scenes signify?")
        gives way to the sentence after it, which answers it."""
        out: list[Candidate] = []
        for c in chosen:
            if asks(c.text):
                c = sentence_after(top, c) or c
            if not any(same_sentence(c, x) for x in out):
                out.append(c)
        return out
