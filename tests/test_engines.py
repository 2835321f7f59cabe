"""The typed engine seam: both engines satisfy ``AnswerEngine``; ``ask_stream`` yields
``TextDelta`` pieces that join to the final ``Answer``'s text."""

from __future__ import annotations

from hypothesis import given, strategies as st

from assistant.core import Assistant
from assistant.engines import AnswerEngine, Condenser, stream_of, text_pieces
from assistant.extractive import ExtractiveEngine
from assistant.llm.engine import LLMEngine
from assistant.models import Answer, TextDelta


class _Chat:
    name = "fake"

    def stream(self, messages, max_tokens=None):
        yield "x"


def test_both_engines_satisfy_the_protocol_and_only_llm_engines_condense(fake_embedder):
    extractive = ExtractiveEngine(fake_embedder)
    llm = LLMEngine(_Chat(), fake_embedder, extractive)
    assert isinstance(extractive, AnswerEngine) and isinstance(llm, AnswerEngine)
    assert isinstance(llm, Condenser) and not isinstance(extractive, Condenser)


@given(st.text(alphabet="ab .!?\n[]1-", max_size=80), st.booleans())
def test_text_pieces_join_back_to_the_text(text, by_line):
    assert "".join(text_pieces(text, by_line)) == text


def test_stream_of_yields_deltas_then_the_answer():
    answer = Answer(question="q", text="One [1]. Two [2].")
    *deltas, last = stream_of(answer)
    assert last is answer and [d.text for d in deltas] == ["One [1]. ", "Two [2]."]


def test_ask_stream_yields_text_deltas_that_join_to_the_answer(tiny_corpus, settings_for, real_embedder):
    assistant = Assistant.from_settings(settings_for(tiny_corpus), embedder=real_embedder)
    assistant.index()
    *deltas, answer = assistant.ask_stream("Which Rust framework is fastest?")
    assert isinstance(answer, Answer) and not answer.refused and answer.citations
    assert deltas and all(isinstance(d, TextDelta) for d in deltas)
    assert "".join(d.text for d in deltas) == answer.text
    assert assistant.engine_names()[0] == "extractive" and assistant.engine is not None
    assert assistant.retriever.store.count() > 0  # public seams, no reaching into internals
