"""Citation verification of generated sentences (assistant.llm.verify, assistant.citations)."""

from __future__ import annotations

import pytest

from assistant.citations import cited_numbers, drop_invalid_citations
from assistant.llm.verify import Verifier, is_note, lexical_support, numbers_in, split_answer_sentences
from assistant.models import Passage

RUST = Passage("r", "Actix Web tops benchmarks, hitting 1 million requests per second. Rocket offers clean syntax.", "Rust in 2026", "rust.md", "Speed", 1.0)
GO = Passage("g", "Goroutines and channels make concurrent programs simple. Go powers tools at Google and Uber.", "Go in 2026", "go.md", "Concurrency", 0.5)


@pytest.fixture
def verifier(fake_embedder):
    return Verifier([RUST, GO], fake_embedder)


def test_split_answer_sentences_marker_after_period_stays_with_its_sentence():
    assert split_answer_sentences("Actix is fast. [1] Go is simple [2].") == ["Actix is fast. [1]", "Go is simple [2]."]


def test_split_answer_sentences_keeps_marker_before_period():
    assert split_answer_sentences("Actix is fast [1]. Go is simple [2].") == ["Actix is fast [1].", "Go is simple [2]."]


def test_drop_invalid_citations_removes_out_of_range_numbers():
    assert drop_invalid_citations("Fast [1] [7] [0].", range(1, 4)) == "Fast [1]."
    assert cited_numbers("a [2] b [1] c [2]") == [2, 1]


def test_numbers_in_ignores_thousands_separators():
    assert numbers_in("100,000 users in 2026.") == {"100000", "2026"}


def test_lexical_support_is_share_of_sentence_tokens_found():
    assert lexical_support(["actix", "fast"], {"actix", "web"}) == 0.5
    assert lexical_support([], {"actix"}) == 0.0


def test_is_note_detects_passages_do_not_say():
    assert is_note("The passages do not mention when Actix was released.")
    assert not is_note("Actix Web hits 1 million requests per second.")


def test_verifier_with_supporting_cited_passage_marks_supported(verifier):
    v = verifier.check("Actix Web hits 1 million requests per second [1].")
    assert v.check.status == "supported" and v.cite == (1,)
    assert v.text == "Actix Web hits 1 million requests per second."
    assert v.quote.startswith("Actix Web tops benchmarks")


def test_verifier_with_wrong_citation_recites_the_supporting_passage(verifier):
    v = verifier.check("Go powers tools at Google and Uber [1].")
    assert v.check.status == "recited" and v.check.cited == (1,) and v.cite == (2,)
    assert v.check.supported


def test_verifier_with_uncited_supported_sentence_adds_citation(verifier):
    v = verifier.check("Goroutines and channels make concurrent programs simple.")
    assert v.check.status == "recited" and v.cite == (2,)


def test_verifier_with_unsupported_sentence_marks_unsupported(verifier):
    v = verifier.check("The moon is made of green cheese [1].")
    assert v.check.status == "unsupported" and v.cite == () and not v.check.supported


def test_verifier_with_number_not_in_passage_marks_unsupported(verifier):
    v = verifier.check("Actix Web hits 5 million requests per second [1].")
    assert v.check.status == "unsupported"


def test_verifier_with_out_of_range_citation_drops_it(verifier):
    v = verifier.check("Actix Web hits 1 million requests per second [7].")
    assert v.check.cited == () and v.cite == (1,) and "[7]" not in v.text


def test_verifier_with_note_keeps_it_uncited(verifier):
    v = verifier.check("The passages do not say who created Rocket [1].")
    assert v.check.status == "note" and v.cite == ()


def test_verifier_with_too_short_sentence_marks_unsupported(verifier):
    assert verifier.check("PWNED [1].").check.status == "unsupported"


def test_an_answer_of_one_void_word_is_unsupported_even_when_the_passage_holds_it(fake_embedder):
    passage = Passage("b", "Nothing is as bad as this. The machine was literal, and so it grew the Bogeyman out of bogeys.",
                      "Space Babies", "t.txt", "", 1.0)
    verifier = Verifier([passage], fake_embedder)
    assert verifier.check("- Nothing [1]").check.status == "unsupported"
    assert verifier.check("None.").check.status == "unsupported"
    assert verifier.check("- The Bogeyman grew out of bogeys [1]").check.status == "supported"


def test_a_sentence_that_only_restates_the_question_is_unsupported(fake_embedder):
    passage = Passage("g", "In Python, top level functions are exported by default. In Gleam functions are private by default "
                      "and need the pub keyword to be public.", "Gleam for Python users", "g.txt", "Functions", 1.0)
    verifier = Verifier([passage], fake_embedder, question="Are Gleam functions public by default like in Python?")
    assert verifier.check("Yes, Gleam functions are public by default like in Python [1].").check.status == "unsupported"
    assert verifier.check("No, Gleam functions are private by default [1].").check.status == "supported"  # "private" is new
    choice = Verifier([passage], fake_embedder, question="Are Gleam functions private or public by default?")
    assert choice.check("Gleam functions are private by default [1].").check.status == "supported"  # the answer to a choice
