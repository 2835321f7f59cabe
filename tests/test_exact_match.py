"""A fact appended to an article is found and cited first (issue 11): the real embedding model,
a real embedded Chroma and BM25 over a copy of the sample articles.

BM25 ranks the chunk holding the new sentence first; the dense side does not (the sentence is a
small part of a chunk about something else). The old dense-weighted fusion buried it below
chunks that are merely on topic; now a side's clear winner goes first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.settings import Settings

from conftest import CORPUS

# (sentence, the article it is appended to, a question only that sentence answers)
FACTS = (
    (
        "ZanzibarJS is a new framework that reaches seven billion requests per second on one laptop.",
        "backend-development-trends-complete-guide-2026.md",
        "Which framework reaches seven billion requests per second?",
    ),
    (
        "Marlinspike is a Kotlin library that compiles HTTP routes into a perfect hash table.",
        "what-developers-are-prioritizing-2026.md",
        "Which Kotlin library compiles HTTP routes into a perfect hash table?",
    ),
)


@pytest.fixture(scope="module")
def with_facts(tmp_path_factory, real_embedder) -> Assistant:
    tmp = tmp_path_factory.mktemp("exact")
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus)
    for sentence, article, _ in FACTS:
        path = corpus / article
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + sentence + "\n", encoding="utf-8")
    assistant = Assistant.from_settings(Settings(corpus_dir=corpus, data_dir=tmp / "data"), embedder=real_embedder)
    assistant.index()
    return assistant


@pytest.mark.parametrize("sentence, article, question", FACTS, ids=["zanzibarjs", "marlinspike"])
def test_appended_fact_is_the_first_passage(with_facts: Assistant, sentence: str, article: str, question: str):
    passages = with_facts.retrieve(question)
    assert sentence in passages[0].text and passages[0].source == article


def test_the_dense_side_alone_misses_the_issue_fact(with_facts: Assistant):
    # the premise of the test above: without the keyword side's clear win the fact is not first
    sentence, _, question = FACTS[0]
    retriever = with_facts.retriever
    dense, keyword = retriever.candidates_for(question)
    assert sentence in keyword[0][0].text
    assert sentence not in dense[0][0].text, "the dense side now ranks the fact first: pick a harder case"


@pytest.mark.parametrize("sentence, article, question", FACTS, ids=["zanzibarjs", "marlinspike"])
def test_appended_fact_is_the_first_citation(with_facts: Assistant, sentence: str, article: str, question: str):
    answer = with_facts.ask(question)
    assert not answer.refused, answer.text
    assert answer.citations and sentence in answer.citations[0].text
