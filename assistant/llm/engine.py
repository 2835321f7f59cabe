"""The LLM answer engine: fluent answers from a chat model, every citation verified by code.

``LLMEngine`` has the extractive engine's interface (``answer(question, query, passages)``)
plus ``answer_stream`` (pieces of text, then the ``Answer``) and ``condense`` (a follow-up
rewritten as a standalone question before retrieval).

How an answer is made:

1. Not relevant enough passages (the extractive engine's relevance gate): refuse, no LLM call.
2. The evidence goes into the prompt, fenced as data (``prompts``): the sentences the extractive
   engine scored highest, each with its neighbours, grouped per passage (``evidence``; at most
   ``max_passages`` excerpts). List questions may be answered with ``- item [n]`` lines.
3. The model's text is cut into sentences as it streams; each finished sentence is verified
   (``verify.Verifier``) before it is shown: unsupported sentences are removed, citations are
   checked and renumbered ``[1]..[m]`` in order of first use, so ``[n]`` is ``citations[n-1]``.
4. Coverage: the sentences the extractive engine chose for the question (the passage sentences
   most likely to hold the answer) must be covered by the answer — at least three quarters of
   each one's content words appear in it (half let a paraphrase that kept the date but lost the
   "free update" stand in for the sentence). When the model answered around one (a neighbouring
   point of the same passages), it is added verbatim with its citation (status ``quoted``) if it
   is relevant to the question by itself (cosine ≥ 0.3), so a generated answer holds the
   extractive one's evidence, and an article's stray instruction-like sentence is never quoted.
5. Refusals: the evidence gate's (the extractive engine's); and when the model says the passages
   do not contain the answer (``NOT IN THE ARTICLES``, or only "the passages do not say …"
   notes), a refusal (reason ``not_in_passages``) that lists the passages it read as
   ``Answer.related`` — never the extractive collage. When the model fails (unreachable, not
   installed, ...) before anything was shown, or writes nothing the passages support, the
   extractive engine's answer stands, with a notice saying so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from assistant.citations import CITATION, attach_citation, in_prose
from assistant.conversation import History, retrieval_query
from assistant.extractive import ExtractiveEngine
from assistant.evidence import number_phrases
from assistant.sentences import ARTICLE_MARKER, CONTINUES, phrase_match, version_match, versions_in
from assistant.llm.backends import ChatModel
from assistant.llm.excerpts import LIST_BUDGET, EvidenceBudget, Excerpt, is_list_question, select_excerpts, whole_passages
from assistant.llm.overview import Overviews
from assistant.llm.prompts import NOT_IN_ARTICLES, answer_messages, condense_messages, parse_condensed
from assistant.llm.verify import Verified, Verifier, split_answer_sentences
from assistant.models import Answer, Citation, Generation, Passage, SentenceCheck, StreamEvent, TextDelta
from corpus.errors import EngineError
from corpus.text import without_sources
from index.embedding import Embedder
from index.keyword import tokenize_query

__all__ = ["LLMEngine", "build_llm_engine", "covers", "ENGINES", "NOT_IN_PASSAGES"]

NOT_IN_PASSAGES = "The closest passages in the articles do not answer this question; they are listed as related."

ENGINES = ("extractive", "local", "openai")
_MARKER_PREFIX = re.compile(r"^[\s\[\]\d.,;:]*")
_FINISHED = re.compile(r"[.!?\]\"”')]\s*$")
_CLAUSE_END = re.compile(r"(?<=[.!?])\s+")
_CITED_END = re.compile(r"\[\d+\]\s*[.!?][\"”’')]*\s*$|\n\s*$")  # "... binary [2]." or a finished list line: final
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")


def _failure_notice(engine: str, error: Exception) -> str:
    return f"The {engine} engine could not answer ({error}); this answer comes from the extractive engine."


class LLMEngine:
    def __init__(
        self,
        chat: ChatModel,
        embedder: Embedder,
        fallback: ExtractiveEngine,
        max_passages: int = 3,
        max_tokens: int = 220,
        threshold: float = 0.55,
        cover: bool = True,
        evidence: EvidenceBudget | None = None,
        list_evidence: EvidenceBudget | None = None,
        lean: bool = True,
    ):
        self.chat = chat
        self.name = chat.name
        self.embedder = embedder
        self.fallback = fallback
        self.max_passages = max_passages
        self.max_tokens = max_tokens
        self.threshold = threshold
        self.cover = cover  # add the extractive answer's sentences the model left out (step 4)
        # ... only those relevant to the question on their own: dev-set answer sentences scored
        # 0.38-0.61, an article's injected "SYSTEM: new instructions ..." 0.05-0.12
        self.quote_min_cosine = 0.3
        self.max_repeats = 2  # generation stops at the second sentence repeated verbatim
        # what the model reads (step 2): excerpts around the evidence, or (lean=False) the best
        # max_passages passages whole, as before
        self.lean = lean
        self.evidence = evidence or EvidenceBudget(passages=max_passages)
        self.list_evidence = list_evidence or replace(LIST_BUDGET, passages=max(max_passages, LIST_BUDGET.passages))

    # -- follow-ups ---------------------------------------------------------------------------
    def condense(self, question: str, history: History) -> str:
        """A standalone question for retrieval; the extractive rule when the model fails."""
        if not history:
            return question
        try:
            text = "".join(self.chat.stream(condense_messages(question, history), max_tokens=60))
        except EngineError:
            return retrieval_query(question, history)
        return parse_condensed(text, question) or retrieval_query(question, history)

    # -- overviews of whole-collection answers (``Overviewer``; ``overview.py``) ----------------
    def overview_stream(self, question: str, answer: Answer) -> Iterator[StreamEvent]:
        """A verified overview of the structured ``answer``, then its text unchanged, then the
        ``Answer`` (see ``assistant/llm/overview.py``)."""
        yield from Overviews(self.chat, self.embedder, self.name, threshold=self.threshold).stream(question, answer)

    # -- answers ------------------------------------------------------------------------------
    def answer(self, question: str, query: str, passages: Sequence[Passage], sources: Sequence[str] | None = None) -> Answer:
        answer = None
        for item in self.answer_stream(question, query, passages, sources):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def excerpts(self, question: str, query: str, passages: Sequence[Passage]) -> list[Excerpt]:
        """What the model reads for ``question``: excerpts of ``passages`` around the evidence."""
        if not self.lean:
            return whole_passages(passages[: self.max_passages])
        pool = list(passages[: self.fallback.max_passages])
        candidates, _ = self.fallback.candidates(query or question, pool, question)
        budget = self.list_evidence if is_list_question(question) else self.evidence
        return select_excerpts(pool, candidates, budget) or whole_passages(pool[:1])

    def messages(self, question: str, query: str, excerpts: Sequence[Excerpt]) -> list[dict[str, str]]:
        """The chat messages for ``question`` over ``excerpts``."""
        return answer_messages(query or question, excerpts, list_answer=is_list_question(question))

    def _refuse(self, question: str, passages: Sequence[Passage], excerpts: Sequence[Excerpt], **extra: Any) -> Iterator[str | Answer]:
        """The model found no answer in what it read: a refusal listing those passages as related."""
        related = tuple(
            Citation(n=n, title=e.passage.title, source=e.passage.source, text=e.passage.text, score=e.passage.score,
                     section=e.passage.section, publisher=e.passage.publisher, date=e.passage.date,
                     chunk_id=e.passage.chunk_id, quotes=e.evidence, url=e.passage.url)
            for n, e in enumerate(excerpts, start=1)
        )
        yield NOT_IN_PASSAGES
        yield Answer(question=question, text=NOT_IN_PASSAGES, refused=True, reason="not_in_passages", passages=tuple(passages),
                     engine=self.name, related=related, **extra)

    def _fallback(self, answer: Answer, notice: str, **extra: Any) -> Iterator[str | Answer]:
        answer = replace(answer, notices=answer.notices + (notice,), **extra)
        yield from _pieces(answer.text)
        yield answer

    def answer_stream(self, question: str, query: str, passages: Sequence[Passage], sources: Sequence[str] | None = None) -> Iterator[StreamEvent]:
        """Verified sentences of the answer as they are generated (``TextDelta``s; joined:
        ``Answer.text``), then the ``Answer``."""
        for item in self._events(question, query, passages, sources):
            yield item if isinstance(item, Answer) else TextDelta(item)

    def _events(self, question: str, query: str, passages: Sequence[Passage], sources: Sequence[str] | None) -> Iterator[str | Answer]:
        passages = tuple(passages)
        # the extractive engine's relevance gate decides refusals (no LLM call), and its answer
        # is the fallback
        base = self.fallback.answer(question, query, passages, sources=sources)
        if base.refused:
            yield from _pieces(base.text)
            yield replace(base, engine=self.name)
            return
        excerpts = self.excerpts(question, query, passages)
        top = [e.passage for e in excerpts]
        verifier = Verifier(top, self.embedder, threshold=self.threshold, question=query or question)
        messages = self.messages(question, query, excerpts)
        state = _State(top, bullets=is_list_question(question))
        started = time.perf_counter()
        first: float | None = None
        tokens = 0
        buffer = ""
        checked = 0
        stream = self.chat.stream(messages, max_tokens=self.max_tokens)
        try:
            for piece in stream:
                if first is None:
                    first = time.perf_counter() - started
                tokens += 1
                buffer += piece
                if NOT_IN_ARTICLES in buffer.upper():
                    state.refused = True
                    break
                if tokens >= self.max_tokens:  # servers that ignore the limit are cut off here
                    break
                sentences = split_answer_sentences(buffer)
                # a sentence is final once the next one has begun with words (not just a marker
                # that may still belong to it)
                ready = len(sentences) - 1 if len(sentences) > 1 and _MARKER_PREFIX.sub("", sentences[-1]) else 0
                if sentences and _CITED_END.search(buffer):  # cited and ended: shown without waiting for the next one
                    ready = len(sentences)
                while checked < ready:
                    yield from state.add(verifier.check(sentences[checked]))
                    checked += 1
                if state.repeats >= self.max_repeats:  # a small model caught in a loop
                    break
            if not state.refused and state.repeats < self.max_repeats:
                rest = split_answer_sentences(buffer)[checked:]
                if rest and tokens >= self.max_tokens and not _FINISHED.search(rest[-1]):
                    rest.pop()  # cut off by the token budget mid-sentence
                for done in rest:
                    yield from state.add(verifier.check(done))
        except EngineError as exc:
            if not state.shown:
                yield from self._fallback(base, _failure_notice(self.name, exc), checks=tuple(state.checks))
                return
            state.notices.append(f"The {self.name} engine stopped early ({exc}); the answer may be incomplete.")
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        generation = Generation(self.name, first if first is not None else 0.0, tokens, time.perf_counter() - started)
        if not state.shown:
            if state.refused or state.missing:
                # the model read the evidence and says it does not hold the answer
                yield from self._refuse(question, passages, excerpts, checks=tuple(state.checks), generation=generation)
                return
            # it wrote only what no passage supports (or nothing): the extractive answer stands.
            # Refusing here instead (STICI train, scoped): refusals 8 -> 12/20 but false refusals
            # 3 -> 6/40 (a misspelt "roopers" was unsupported), a loss at 2x the cost of a miss.
            notice = f"The {self.name} engine's answer could not be verified against the passages; this answer comes from the extractive engine."
            yield from self._fallback(base, notice, checks=tuple(state.checks), generation=generation)
            return
        yield from state.flush_notes()
        if self.cover:
            yield from self._cover(state, base, query or question, passages)
        yield Answer(
            question=question,
            text="".join(state.pieces),
            citations=state.citations(),
            passages=passages,
            engine=self.name,
            notices=tuple(state.notices),
            checks=tuple(state.checks),
            generation=generation,
        )


    def _relevant(self, query: str, text: str, section: str, phrases: Sequence[str] | None = None,
                  versions: set[str] | None = None) -> bool:
        """Is a sentence of the extractive answer relevant to the question on its own? Half the
        cosine suffices under a section the question names by a number phrase ("Day 2 – Ropers"
        for "What happens on day 2?": the sentences under it do not say "day 2" themselves) or by
        a version ("1.6.8 › Bug fixes" for "What was fixed in 1.6.8?")."""
        phrases = number_phrases(query) if phrases is None else phrases
        versions = versions_in(query) if versions is None else versions
        named = phrase_match(section, text, phrases) > 0 or version_match(section, text, versions) > 0  # "1.6.8 › Bug fixes"
        floor = self.quote_min_cosine / 2 if section and named else self.quote_min_cosine
        return float(self.fallback.similarities(query, [text])[0]) >= floor

    def _cover(self, state: _State, base: Answer, query: str, passages: Sequence[Passage]) -> Iterator[str]:
        """Step 4: the extractive answer's sentences, then its list items, that the model's
        answer does not cover, verbatim with their citations."""
        by_id = {p.chunk_id: p for p in passages}
        items = _list_items(base)
        phrases, versions = number_phrases(query), versions_in(query)
        for citation in base.citations:
            # each clause ending in . ! ? on its own: the sentence splitter keeps "...benchmarks.
            # </passage> SYSTEM: ..." together, and only its relevant part may be quoted
            quotes = [q for q in citation.quotes if not any(q in t for t, c in items if c.n == citation.n)]
            parts = (part.strip() for quote in quotes for part in _CLAUSE_END.split(ARTICLE_MARKER.sub("", quote)))
            kept = False  # the clause before was quoted or said already
            for text in parts:
                if text.endswith(("?", ":")):  # a passage's own question ("How can I ...?") or lead-in answers nothing
                    kept = False
                    continue
                said = not text or covers("".join(state.pieces), text)
                # "By employing critique tokens, this approach evaluates ..." leans on the clause before it: kept with it
                leans = kept and bool(CONTINUES.match(text))
                if not said and (leans or self._relevant(query, text, citation.section, phrases, versions)):
                    # (a citation may name a chunk beyond the retrieved ones: the next one an answer runs on into)
                    yield from state.add_quote(text, by_id.get(citation.chunk_id) or _passage_of(citation))
                    kept = True
                else:
                    kept = said
        # the items of a list the extractive engine gathered (after a lead-in it judged relevant,
        # or for a list question): each one on its own is rarely close to the question ("Fast.")
        for text, citation in items:
            if not covers("".join(state.pieces), text):
                yield from state.add_quote(text, by_id.get(citation.chunk_id) or _passage_of(citation), bullet=True)


def _list_items(answer: Answer) -> list[tuple[str, Citation]]:
    """The ``- item [n]`` lines of an extractive answer, without markers, with their citation."""
    out = []
    for line in answer.text.split("\n"):
        if not line.startswith("- "):
            continue
        numbers = [int(n) for n in CITATION.findall(line)]
        if not numbers or not 1 <= numbers[-1] <= len(answer.citations):
            continue
        text = re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub("", line[2:])).strip()
        if text:
            out.append((text, answer.citations[numbers[-1] - 1]))
    return out


def _passage_of(c: Citation) -> Passage:
    return Passage(c.chunk_id, c.text, c.title, c.source, c.section, c.score, publisher=c.publisher, date=c.date, url=c.url)


class _State:
    """Sentences shown so far, the renumbering of passages, and the checks made."""

    def __init__(self, passages: list[Passage], bullets: bool = True):
        self.passages = passages
        self.bullets = bullets  # list items shown as "- item" lines (list questions); else as sentences
        self.seen: set[str] = set()
        self.repeats = 0
        self.pieces: list[str] = []
        self.checks: list[SentenceCheck] = []
        self.notices: list[str] = []
        self.notes: list[str] = []  # "the passages do not say ..." and lead-ins, held until a supported sentence
        self.missing = False  # the model said the passages do not cover something
        self.bulleted = False  # the last piece shown was a list item
        self.number: dict[int, int] = {}  # prompt number -> answer number
        self.quotes: dict[int, list[str]] = {}
        self.refused = False
        self.shown = False

    def _emit(self, text: str, bullet: bool = False) -> Iterator[str]:
        """Sentences joined by a space; list items (and what follows them) each on a new line."""
        if bullet:
            text = "- " + text
        sep = "" if not self.pieces else "\n" if bullet or self.bulleted or self.pieces[-1].rstrip().endswith(":") else " "
        piece = sep + text
        self.pieces.append(piece)
        self.bulleted = bullet
        self.shown = True
        yield piece

    def flush_notes(self) -> Iterator[str]:
        if self.shown:
            for note in self.notes:
                yield from self._emit(note)
            self.notes.clear()

    def add(self, verified: Verified) -> Iterator[str]:
        check = verified.check
        key = " ".join(verified.text.lower().split())
        if key in self.seen:  # said already: shown (and recorded) once
            self.repeats += 1
            return
        self.seen.add(key)
        self.checks.append(check)
        if check.status == "note":
            self.missing = self.missing or not verified.lead
            self.notes.append(verified.text)
            yield from self.flush_notes()
            return
        if not check.supported:
            return
        text = verified.text
        for n in verified.cite:
            m = self.number.setdefault(n, len(self.number) + 1)
            if verified.quote and verified.quote not in self.quotes.setdefault(n, []):
                self.quotes[n].append(verified.quote)
            text = attach_citation(text, m)
        pending = list(self.notes)
        self.notes.clear()
        for note in pending:
            yield from self._emit(note)
        # a list item stays one (a single-fact question's "- It drops a key [1]." reads as a sentence)
        yield from self._emit(text, bullet=verified.bullet and (self.bullets or not _SENTENCE_END.search(verified.text)))

    def add_quote(self, text: str, passage: Passage, bullet: bool = False) -> Iterator[str]:
        """``text``, a sentence (or list item) of ``passage``, verbatim with its citation."""
        if passage not in self.passages:
            self.passages.append(passage)
        n = self.passages.index(passage) + 1
        m = self.number.setdefault(n, len(self.number) + 1)
        if text not in self.quotes.setdefault(n, []):
            self.quotes[n].append(text)
        self.checks.append(SentenceCheck(text, "quoted", (n,), n, 1.0))
        marked = attach_citation(text, m)
        yield from self._emit(marked if bullet else in_prose(marked), bullet=bullet)

    def citations(self) -> tuple[Citation, ...]:
        out = []
        for n, m in sorted(self.number.items(), key=lambda kv: kv[1]):
            p = self.passages[n - 1]
            out.append(Citation(n=m, title=p.title, source=p.source, text=p.text, score=p.score, section=p.section,
                                publisher=p.publisher, date=p.date, chunk_id=p.chunk_id, quotes=tuple(self.quotes.get(n, ())),
                                url=p.url))
        return tuple(out)


def covers(answer: str, sentence: str, share: float = 0.75) -> bool:
    """Whether ``answer`` holds at least ``share`` of ``sentence``'s content words (stemmed), a
    paper's "(Author et al., 2023)" aside. Pure."""
    words = set(tokenize_query(without_sources(sentence)))
    if not words:
        return True
    return len(words & set(tokenize_query(answer))) >= share * len(words)


def _pieces(text: str) -> list[str]:
    """``text`` as sentence pieces that join back to it exactly."""
    return re.findall(r".+?(?:[.!?\]]\S*\s+|$)", text, re.S) or [text]


def build_llm_engine(settings: Any, embedder: Embedder, fallback: ExtractiveEngine) -> LLMEngine:
    """The engine ``settings.engine`` names (``local`` or ``openai``)."""
    from assistant.llm.backends import LlamaCppChat, OpenAICompatibleChat

    chat: ChatModel
    if settings.engine == "local":
        chat = LlamaCppChat(settings.model_cache_dir, n_ctx=settings.llm_context, n_threads=settings.llm_threads)
    elif settings.engine == "openai":
        chat = OpenAICompatibleChat(settings.llm_model, settings.llm_base_url, settings.llm_api_key, settings.llm_timeout)
    else:
        raise EngineError(f"engine must be one of {', '.join(ENGINES)}. Currently, engine is {settings.engine!r}")
    return LLMEngine(chat, embedder, fallback, max_passages=settings.llm_passages, max_tokens=settings.llm_max_tokens)
