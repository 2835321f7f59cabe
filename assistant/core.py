"""``Assistant``: the Python API. CLI and UI only render what it returns."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from assistant.conversation import History, retrieval_query
from assistant.engines import AnswerEngine, Condenser, Overviewer, available_engines, stream_of
from assistant.models import Answer, Passage, StreamEvent
from assistant.settings import Settings
from assistant.shapes import Shape, classify
from corpus.models import Article
from corpus.errors import EngineError, IndexStateError
from index.embedding import Embedder
from index.indexer import IndexCheck, Indexer, IndexReport
from index.keyword import KeywordIndex
from index.store import ChromaStore

if TYPE_CHECKING:
    from assistant.factory import Components
    from assistant.retrieval import HybridRetriever

__all__ = ["Assistant"]

EMPTY_QUESTION = "Please type a question about the articles."
_WHOLE_COLLECTION = ("collection", "comparison", "summary")


def _whole(shape: Shape, sources: Sequence[str] | None) -> bool:
    """Answered from the articles' knowledge: collection-wide, comparison and summary questions
    over the whole collection, and a summary of the one article a question is limited to."""
    if sources is None:
        return shape.name in _WHOLE_COLLECTION
    return shape.name == "summary" and len(set(sources)) == 1


def _clean_question(question: object) -> str:
    text = "" if question is None else str(question)
    return "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text).strip()


class Assistant:
    """Answers questions about the indexed articles, with cited passages.

    Build it with ``Assistant.from_settings()``; that loads the embedding model and opens the
    index (the only heavy step). ``ask`` never raises for a bad question: it returns a refused
    ``Answer`` whose ``reason`` says why.
    """

    def __init__(self, components: Components):
        self._c = components
        self.settings: Settings = components.settings
        self._synced = False
        self._ready_lock = threading.Lock()
        self._engine_lock = threading.Lock()
        self._collection: Any = None

    # -- parts (public seams: tests and benchmarks use these, never ``_c``) --------------------
    @property
    def store(self) -> ChromaStore:
        """The vector store (the whole collection; ``retriever.store`` is the pinned view)."""
        return self._c.store

    @property
    def indexer(self) -> Indexer:
        return self._c.indexer

    @property
    def retriever(self) -> HybridRetriever:
        """The retriever questions use now (pinned to the committed index generation)."""
        return self._c.retriever

    @property
    def keyword(self) -> KeywordIndex:
        return self._c.keyword

    @property
    def embedder(self) -> Embedder:
        """The bulk embedder (indexing); questions use ``query_embedder``."""
        return self._c.embedder

    @property
    def query_embedder(self) -> Embedder:
        return self._c.query_embedder

    @property
    def engine(self) -> AnswerEngine:
        """The engine that answers when a question names none (the settings' engine)."""
        return self._c.engine

    @engine.setter
    def engine(self, engine: AnswerEngine) -> None:
        self._c.engine = engine

    def engine_names(self) -> tuple[str, ...]:
        """The engines ``ask(..., engine=name)`` accepts here, the default first."""
        names = available_engines(self.settings)
        return (self.settings.engine, *(n for n in names if n != self.settings.engine))

    def _engine(self, name: str | None) -> AnswerEngine:
        if name is None or name == self.settings.engine:
            return self._c.engine
        if name not in self.engine_names():
            raise EngineError(f"engine must be one of {', '.join(self.engine_names())}. Currently, engine is {name!r}")
        from assistant.factory import build_engine

        with self._engine_lock:  # one build per engine, however many chats pick it at once
            return build_engine(self._c, name)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> Assistant:
        from assistant.factory import build_components

        settings = settings or Settings.from_env()
        return cls(build_components(settings, **kwargs))

    # -- index --------------------------------------------------------------------------------
    def index(
        self,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
        lock_timeout: float = 0,
        articles: Sequence[Article] | None = None,
    ) -> IndexReport:
        """Bring the index in step with the corpus folder (incremental unless ``rebuild``), or
        with ``articles`` when given (``assistant eval --beir`` indexes a BEIR corpus this way).

        One writer at a time: the data folder's file lock guards this machine; on a Chroma
        server a lease on the collection guards it from other machines (``WriterLease``).
        Either held by another run: ``IndexStateError`` after waiting ``lock_timeout`` seconds.
        """
        from dataclasses import replace

        from corpus.loaders import load_corpus
        from index.locking import writer_guard

        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        if articles is None:
            loaded = load_corpus(s.corpus_dir, s.max_file_bytes)
            articles, warnings = loaded.articles, loaded.warnings
        else:
            warnings = ()
        with writer_guard(s.lock_path, self._c.store if s.chroma_url else None, lock_timeout) as lease:
            report = self._c.indexer.sync(list(articles), rebuild=rebuild, progress=progress, lease=lease)
        self._write_status(report)
        return replace(report, warnings=tuple(warnings))

    def _write_status(self, report: IndexReport) -> None:
        import json

        path = self.settings.data_dir / "last_index.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"time": time.time(), "chunks": report.chunks}))
        tmp.replace(path)

    def _ensure_ready(self) -> None:
        """Open the committed index generation, and again whenever a re-index (here or in
        another process) commits a new one. Each question reads one retriever, pinned to one
        generation: the old state or the new one, never a mix."""
        if self._synced and not self._c.retriever.store.changed():
            return
        with self._ready_lock:
            if self._synced and not self._c.retriever.store.changed():
                return
            from copy import copy

            from index.indexer import open_keyword

            store = self._c.store
            view = store.snapshot() if store.exists() else None
            if view is None or view.count() == 0:
                if (self.settings.data_dir / "last_index.json").exists() and not self.settings.chroma_url:
                    raise IndexStateError(
                        f"the index in {self.settings.data_dir} was built but its vector store is gone "
                        "(half-deleted data folder?); run `assistant index --rebuild`"
                    )
                raise IndexStateError(
                    f"the index for {self.settings.corpus_dir} is empty; run `assistant index` first"
                )
            keyword = open_keyword(view, self._c.keyword)
            retriever = copy(self._c.retriever)
            retriever.store, retriever.keyword = view, keyword
            self._c.keyword, self._c.retriever = keyword, retriever
            self._synced = True

    def check_index(self) -> IndexCheck:
        """Compare the committed index with the corpus folder, chunk by chunk (embeds nothing)."""
        from corpus.loaders import load_corpus

        loaded = load_corpus(self.settings.corpus_dir, self.settings.max_file_bytes)
        return self._c.indexer.check(list(loaded.articles))

    def status(self) -> dict[str, Any]:
        import json

        self._ensure_ready()
        articles = self._c.retriever.store.articles()
        last = None
        try:
            last = json.loads((self.settings.data_dir / "last_index.json").read_text())["time"]
        except (OSError, ValueError, KeyError):
            pass
        return {"articles": len(articles), "chunks": sum(len(a.chunk_ids) for a in articles.values()), "last_indexed": last}

    def articles(self) -> list[tuple[str, str]]:
        """``(source, title)`` of every indexed article, sorted by title."""
        self._ensure_ready()
        seen: dict[str, str] = {}
        for chunk in self._c.keyword.chunks():
            seen.setdefault(chunk.source, chunk.title)
        return sorted(seen.items(), key=lambda kv: kv[1].lower())

    def outline(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """``(source, title, section headings in reading order)`` of every indexed article,
        sorted by title."""
        self._ensure_ready()
        titles: dict[str, str] = {}
        sections: dict[str, dict[str, int]] = {}
        for chunk in self._c.keyword.chunks():
            titles.setdefault(chunk.source, chunk.title)
            if chunk.section:
                sections.setdefault(chunk.source, {}).setdefault(chunk.section, chunk.index)
        return [
            (source, title, tuple(sorted(sections.get(source, {}), key=lambda h: sections[source][h])))
            for source, title in sorted(titles.items(), key=lambda kv: kv[1].lower())
        ]

    # -- questions ----------------------------------------------------------------------------
    def retrieve(self, question: str, k: int | None = None, sources: Iterable[str] | None = None) -> list[Passage]:
        """The ``k`` passages most relevant to ``question`` (fused score, higher is better)."""
        self._ensure_ready()
        q = _clean_question(question)
        if not q:
            return []
        return self._c.retriever.retrieve(q[: self.settings.max_question_chars], k=k, sources=sources)

    @staticmethod
    def _query(engine: AnswerEngine, question: str, history: History) -> str:
        """The retrieval query: LLM engines condense a follow-up into a standalone question
        (``Condenser``); the extractive engine prepends the last user turn."""
        if isinstance(engine, Condenser) and history:
            return str(engine.condense(question, history))
        return retrieval_query(question, history)

    def ask(
        self, question: str, history: History = (), sources: Sequence[str] | None = None, engine: str | None = None
    ) -> Answer:
        """Answer ``question`` (a follow-up of ``history``'s (user, assistant) pairs), with the
        engine called ``engine`` (one of ``engine_names()``; None: the settings' engine)."""
        writer = self._engine(engine)
        q = _clean_question(question)
        if not q:
            return Answer(question=str(question or ""), text=EMPTY_QUESTION, refused=True, reason="empty_question")
        limit = self.settings.max_question_chars
        if len(q) > limit:
            return Answer(
                question=q[:200],
                text=f"The question is too long ({len(q):,} characters; the limit is {limit:,}). Please shorten it.",
                refused=True,
                reason="question_too_long",
            )
        self._ensure_ready()
        shape = classify(q)
        whole = self._answer_whole(q, shape, sources)
        if whole is not None:
            *_, final = self._overview(writer, q, whole)
            assert isinstance(final, Answer)
            return final
        query = self._query(writer, q, history)
        passages = self._c.retriever.retrieve(query, sources=sources)
        answer = writer.answer(q, query, passages, sources=sources)
        # the engine answers factoids and lists (and the other shapes when there is no knowledge)
        return replace(answer, shape="list") if shape.name == "list" and not answer.refused else answer

    def _answer_whole(self, question: str, shape: Shape, sources: Sequence[str] | None) -> Answer | None:
        """Collection-wide, comparison and summary questions, from the articles' knowledge
        (``assistant/collection.py``); a summary of the one article a question is limited to.
        None for other shapes, for other questions limited to articles, and for an index built
        without knowledge (the engine answers then)."""
        if not _whole(shape, sources):
            return None
        if self._collection is None:
            from assistant.collection import CollectionAnswerer

            self._collection = CollectionAnswerer(self._c)
        return self._collection.answer(question, shape, source=next(iter(sources)) if sources else None)

    @staticmethod
    def _overview(writer: AnswerEngine, question: str, answer: Answer) -> Iterator[StreamEvent]:
        """A whole-collection ``answer`` as a stream; an ``Overviewer`` (the LLM engines) writes
        a verified overview on top of it (``assistant/llm/overview.py``)."""
        if isinstance(writer, Overviewer) and not answer.refused:
            yield from writer.overview_stream(question, answer)
        else:
            yield from stream_of(answer, by_line=answer.shape in _WHOLE_COLLECTION)

    def ask_stream(
        self, question: str, history: History = (), sources: Sequence[str] | None = None, engine: str | None = None
    ) -> Iterator[StreamEvent]:
        """``ask``, streamed: ``TextDelta`` pieces of the answer text (in order; joined they give
        ``Answer.text``), then the ``Answer``. LLM engines stream as they generate; extractive
        answers come a sentence at a time, collection answers a line at a time."""
        writer = self._engine(engine)
        q = _clean_question(question)
        if not q or len(q) > self.settings.max_question_chars:
            yield from stream_of(self.ask(question, history, sources, engine))
            return
        if _whole(classify(q), sources):
            self._ensure_ready()
            whole = self._answer_whole(q, classify(q), sources)
            answer = whole or self.ask(question, history, sources, engine)  # no knowledge: the engine's answer
            yield from self._overview(writer, q, answer) if whole else stream_of(answer)
            return
        self._ensure_ready()
        query = self._query(writer, q, history)
        passages = self._c.retriever.retrieve(query, sources=sources)
        if classify(q).name != "list":
            yield from writer.answer_stream(q, query, passages, sources=sources)
            return
        for event in writer.answer_stream(q, query, passages, sources=sources):
            yield replace(event, shape="list") if isinstance(event, Answer) and not event.refused else event
