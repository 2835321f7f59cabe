"""What the LLM reads: excerpts around the evidence sentences (assistant.llm.excerpts), and
list answers verified line by line (assistant.llm.verify, assistant.llm.engine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.extractive import ExtractiveEngine
from assistant.sentences import Candidate
from assistant.llm.engine import LLMEngine
from assistant.llm.excerpts import EvidenceBudget, is_list_question, select_excerpts
from assistant.llm.verify import Verifier, split_answer_sentences, split_bullet
from assistant.models import Answer, Passage

TEXT = "Alpha starts here. Beta follows it. Gamma is the evidence. Delta comes next. Epsilon is far away. Zeta ends it."


def _p(text: str = TEXT, chunk: str = "a") -> Passage:
    return Passage(chunk, text, "T", f"{chunk}.md", "", 1.0)


def _c(passage: int, position: int, score: float, text: str = "x") -> Candidate:
    return Candidate(passage, text, score, frozenset(), position)


@pytest.mark.parametrize("question", [
    "What are all the frameworks the article names?", "Which databases were shortlisted?",
    "What are the three steps?", "What tools are mentioned?", "Name the tools the guide uses.", "Which players joined the team?",
])
def test_is_list_question_with_plural_or_listing_question(question):
    assert is_list_question(question)


@pytest.mark.parametrize("question", [
    "What is polyglot persistence?", "What does the author recommend?", "How fast is Actix Web?",
    "Who wrote the article?", "What kind of gun does it use?", "What was the result?",
])
def test_is_list_question_with_single_fact_question(question):
    assert not is_list_question(question)


def test_select_excerpts_keeps_evidence_with_one_neighbour_each_side():
    [excerpt] = select_excerpts([_p()], [_c(0, 2, 1.0, "Gamma is the evidence.")], EvidenceBudget())
    assert excerpt.text == "Beta follows it. Gamma is the evidence. Delta comes next."
    assert excerpt.evidence == ("Gamma is the evidence.",)


def test_select_excerpts_joins_runs_that_are_not_adjacent_with_an_ellipsis():
    [excerpt] = select_excerpts([_p()], [_c(0, 0, 1.0), _c(0, 5, 0.9)], EvidenceBudget(neighbours=0))
    assert excerpt.text == "Alpha starts here. … Zeta ends it."


def test_select_excerpts_drops_weak_sentences_and_orders_passages_by_retrieval_rank():
    passages = [_p(chunk="a"), _p(chunk="b"), _p(chunk="c")]
    candidates = [_c(2, 1, 1.0), _c(0, 3, 0.8), _c(1, 3, 0.3)]  # 0.3 < 0.6 x best
    excerpts = select_excerpts(passages, candidates, EvidenceBudget(neighbours=0))
    assert [e.passage.chunk_id for e in excerpts] == ["a", "c"]
    assert [e.text for e in excerpts] == ["Delta comes next.", "Beta follows it."]


def test_select_excerpts_respects_the_character_budget_and_passage_cap():
    passages = [_p(chunk=c) for c in "abcd"]
    candidates = [_c(i, 2, 1.0 - i / 100) for i in range(4)]
    excerpts = select_excerpts(passages, candidates, EvidenceBudget(chars=10_000, passages=2))
    assert len(excerpts) == 2
    tight = select_excerpts(passages, candidates, EvidenceBudget(chars=30, passages=4))
    assert [e.text for e in tight] == ["Gamma is the evidence."]  # the best sentence alone: always kept


def test_select_excerpts_without_candidates_is_empty():
    assert select_excerpts([_p()], [], EvidenceBudget()) == []


def test_split_answer_sentences_makes_each_bullet_a_sentence():
    text = "The frameworks are:\n- Actix Web [1]\n- **Rocket** [1]\n1. Gin [2]"
    assert split_answer_sentences(text) == ["The frameworks are:", "- Actix Web [1]", "- **Rocket** [1]", "1. Gin [2]"]
    assert split_bullet("- **Rocket** [1]") == (True, "Rocket [1]")
    assert split_bullet("Rocket is fast [1].") == (False, "Rocket is fast [1].")


RUST = Passage("r", "Actix Web tops benchmarks, hitting 1 million requests per second. Rocket offers clean syntax.", "Rust in 2026", "rust.md", "Speed", 1.0, dense_score=0.8)
GO = Passage("g", "Goroutines and channels make concurrent programs simple. Go powers tools at Google and Uber.", "Go in 2026", "go.md", "Concurrency", 0.5, dense_score=0.6)


def test_verifier_checks_one_word_bullets_and_keeps_a_lead_in_that_restates_the_question(fake_embedder):
    verifier = Verifier([RUST, GO], fake_embedder, question="Which Rust frameworks are there?")
    lead, item, wrong, invented = (verifier.check(s) for s in ("The Rust frameworks are:", "- Rocket [1]", "- Uber [1]", "- Bananas [2]"))
    assert (lead.check.status, lead.lead) == ("note", True)
    assert (item.check.status, item.bullet, item.text, item.cite) == ("supported", True, "Rocket", (1,))
    assert (wrong.check.status, wrong.cite) == ("recited", (2,))  # Uber is in passage 2, not 1
    assert invented.check.status == "unsupported"
    claim = verifier.check("The fastest Rust frameworks are written by Bananas Inc:")
    assert claim.check.status == "unsupported" and not claim.lead  # a lead-in with a claim of its own


class _Chat:
    name = "fake"

    def __init__(self, reply: str):
        self.reply = reply
        self.history: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        self.history.append(messages)
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            yield word if i == len(words) - 1 else word + " "


def test_list_answer_keeps_verified_bullets_one_a_line_each_cited(fake_embedder):
    chat = _Chat("The Rust frameworks are:\n- Actix Web [1]\n- Rocket [1]\n- Bananas [2]")
    engine = LLMEngine(chat, fake_embedder, ExtractiveEngine(fake_embedder, min_relevance=0.0), cover=False, lean=False)
    items = list(engine.answer_stream("Which Rust frameworks are there?", "Which Rust frameworks are there?", (RUST, GO)))
    answer = items[-1]
    assert isinstance(answer, Answer) and "".join(i.text for i in items[:-1]) == answer.text
    assert answer.text == "The Rust frameworks are:\n- Actix Web [1]\n- Rocket [1]"
    assert [c.status for c in answer.checks] == ["note", "supported", "supported", "unsupported"]
    assert [c.source for c in answer.citations] == ["rust.md"]


def test_lean_prompt_holds_the_evidence_not_the_whole_passage(fake_embedder):
    far = "Rust compiles slowly on laptops with little memory, its critics say."
    long_rust = Passage("r", "Actix Web tops benchmarks, hitting 1 million requests per second. Rocket offers clean syntax. "
                        "Axum builds on Tokio. Warp uses filters. Poem is small. " + far, "Rust in 2026", "rust.md", "Speed", 1.0, dense_score=0.8)
    chat = _Chat("Actix Web hits 1 million requests per second [1].")
    engine = LLMEngine(chat, fake_embedder, ExtractiveEngine(fake_embedder, min_relevance=0.0), cover=False)
    answer = engine.answer("Which framework hits 1 million requests per second?", "", (long_rust, GO))
    user = chat.history[0][1]["content"]
    assert "1 million requests per second" in user and far not in user and "<passage n=\"1\"" in user
    assert answer.text == "Actix Web hits 1 million requests per second [1]." and answer.citations[0].source == "rust.md"


def test_answer_of_a_model_caught_in_a_loop_shows_each_sentence_once_and_stops(fake_embedder):
    chat = _Chat("- Rocket [1]\n- Actix Web [1]\n" * 6 + "- Memory safety [1]")
    engine = LLMEngine(chat, fake_embedder, ExtractiveEngine(fake_embedder, min_relevance=0.0), cover=False, lean=False)
    answer = engine.answer("Which Rust frameworks are there?", "", (RUST, GO))
    assert answer.text == "- Rocket [1]\n- Actix Web [1]"
    assert len(answer.checks) == 2 and answer.generation.tokens < 20  # cut off at the second repeat


def test_bullets_of_a_single_fact_question_are_shown_as_sentences(fake_embedder):
    chat = _Chat("- Actix Web hits 1 million requests per second [1].")
    engine = LLMEngine(chat, fake_embedder, ExtractiveEngine(fake_embedder, min_relevance=0.0), cover=False)
    answer = engine.answer("How fast is Actix Web?", "", (RUST, GO))
    assert answer.text == "Actix Web hits 1 million requests per second [1]."


def test_list_items_of_the_extractive_answer_the_model_left_out_are_added_as_cited_bullets(fake_embedder):
    # the extractive engine gathered a list after a lead-in; the model named one item only
    reqs = Passage("q", "Required features:\n- Fast.\n- Runs locally for privacy.\n- Cheap to host.", "Plan", "plan.md", "Requirements", 1.0, dense_score=0.7)
    chat = _Chat("- Fast [1]")
    engine = LLMEngine(chat, fake_embedder, ExtractiveEngine(fake_embedder, min_relevance=0.0), cover=True)
    answer = engine.answer("What are the required features?", "What are the required features?", (reqs,))
    base = engine.fallback.answer("What are the required features?", "What are the required features?", (reqs,))
    assert "\n- Runs locally for privacy [1]." in base.text  # the extractive engine's list
    assert answer.text.startswith("- Fast [1]\n")
    assert "- Runs locally for privacy [1]." in answer.text and "- Cheap to host [1]." in answer.text
    assert [c.status for c in answer.checks][0] == "supported" and answer.checks[-1].status == "quoted"
    assert [c.source for c in answer.citations] == ["plan.md"]


def test_verifier_drops_a_placeholder_marker_copied_from_the_instructions(fake_embedder):
    verified = Verifier([RUST, GO], fake_embedder).check("Rocket offers clean syntax [n] [1].")
    assert (verified.text, verified.cite, verified.check.status) == ("Rocket offers clean syntax.", (1,), "supported")


@pytest.mark.parametrize("sentence", [
    "None of the articles mention the 1998 chess olympiad.",
    "None of the given articles mention the 1998 chess olympiad.",
    "Neither of the two provided passages states the winner.",
    "I couldn't find any information about the 1998 chess olympiad in the articles.",
    "I cannot answer this question based on the given articles.",
    "I don't have enough information to answer that.",
    "The answer is not available in the provided passages.",
    "This question cannot be answered from the passages.",
    "Based on the passages, it is not possible to determine who won.",
    "The passages provide no information about its price.",
    "There is no information about the winner in the passages provided.",
    "The passages do not say how many employees Uber has.",
])
def test_is_note_with_the_ways_a_model_says_the_passages_lack_the_answer(sentence):
    from assistant.llm.verify import is_note

    assert is_note(sentence)


@pytest.mark.parametrize("sentence", ["Actix Web has no garbage collector.", "None of the frameworks beats Actix Web.",
                                      "None of the three fastest frameworks in these articles is written in Go.",
                                      "Alan cannot find the manuscript before the loop resets.", "I decided to use LangChain for the RAG process."])
def test_is_note_with_a_claim_is_false(sentence):
    from assistant.llm.verify import is_note

    assert not is_note(sentence)
