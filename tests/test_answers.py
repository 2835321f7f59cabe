"""Unit tests of answer composition, follow-up queries, citations and evaluation scoring."""

from assistant.citations import attach_citation, cited_numbers, drop_invalid_citations
from assistant.conversation import is_follow_up, retrieval_query
from assistant.evaluation import EvalItem, score_item, summarize
from assistant.extractive import NOT_COVERED, ExtractiveEngine, unknown_names
from assistant.models import Passage


def _passage(i: int, text: str, dense: float) -> Passage:
    return Passage(chunk_id=f"c{i}", text=text, title=f"Title {i}", source=f"s{i}.md", section="S", score=1.0 / (i + 1), dense_score=dense)


def test_extractive_answer_cites_every_sentence(fake_embedder):
    engine = ExtractiveEngine(fake_embedder, min_relevance=0.0)
    passages = [
        _passage(0, "Goroutines and channels make concurrent programs simple. The weather was fine.", 0.8),
        _passage(1, "Go powers tools at Google and Uber for their scale.", 0.7),
    ]
    answer = engine.answer("Which companies use Go at scale?", "Which companies use Go at scale?", passages)
    assert not answer.refused
    assert "Google and Uber" in answer.text
    numbers = cited_numbers(answer.text)
    assert numbers and numbers == list(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        assert all(q in citation.text for q in citation.quotes)
    # every sentence of the answer ends with a citation marker
    assert all("[" in part for part in answer.text.split("]")[:-1])


def test_extractive_answer_below_threshold_refuses_without_citations(fake_embedder):
    engine = ExtractiveEngine(fake_embedder, min_relevance=0.99)
    answer = engine.answer("Who won the cup?", "Who won the cup?", [_passage(0, "Rust is memory safe and fast to run.", 0.2)])
    assert answer.refused and answer.reason == "not_covered" and answer.citations == () and answer.text == NOT_COVERED


def test_extractive_answer_unknown_name_raises_the_bar(fake_embedder):
    passages = [_passage(0, "Mature frameworks come with better documentation and tools.", 0.5)]
    lenient = ExtractiveEngine(fake_embedder, min_relevance=0.0, min_relevance_unknown=0.95, known_term=lambda w: w != "Mojolicious")
    answer = lenient.answer("What about Perl's Mojolicious framework?", "What about Perl's Mojolicious framework?", passages)
    assert answer.refused


def test_unknown_names_skips_first_word_and_known_terms():
    known = {"Go", "Google"}.__contains__
    assert unknown_names("Which runtime do Google and Perl use with Go?", known) == ["Perl"]
    assert unknown_names("What do the articles say about nginx TLS?", known) == ["TLS"]


def test_attach_citation_goes_before_end_punctuation():
    assert attach_citation("Go is fast.", 2) == "Go is fast [2]."
    assert attach_citation("A list item", 1) == "A list item [1]"
    assert attach_citation("He said “go.”", 3) == "He said “go [3].”"


def test_drop_invalid_citations_removes_out_of_range_numbers():
    assert drop_invalid_citations("A [1]. B [7]. C [2].", range(1, 3)) == "A [1]. B. C [2]."
    assert cited_numbers("x [2] y [1] z [2]") == [2, 1]


def test_retrieval_query_follow_up_uses_previous_question():
    history = [("Tell me about Elixir Phoenix.", "It handles connections.")]
    assert retrieval_query("How many users can it handle live?", history) == "Tell me about Elixir Phoenix. How many users can it handle live?"
    assert retrieval_query("What is Django's admin panel for?", history) == "What is Django's admin panel for?"
    assert is_follow_up("And Rust?") and not is_follow_up("What is polyglot persistence in databases?")


def test_score_item_and_summarize_compute_metrics():
    answerable = EvalItem("a", ("q",), ("evidence phrase",), ("Netflix",))
    unanswerable = EvalItem("u", ("q",), (), ())
    r1 = score_item(answerable, ["other", "has Evidence Phrase"], "Netflix runs it [1].", False, ["has evidence phrase", "other"])
    r2 = score_item(unanswerable, ["x"], "no", True, [])
    assert r1.rank == 2 and r1.correct and r1.cited_with_evidence == 1
    m = summarize([r1, r2], k=5)
    assert m["hit@k"] == 1.0 and m["mrr"] == 0.5 and m["citation_precision"] == 0.5
    assert m["refusal_accuracy"] == 1.0 and m["false_refusals"] == 0.0


def test_select_sentences_never_repeats_a_sentence_from_overlapping_passages():
    from assistant.extractive import Candidate, select_sentences

    q = frozenset({"go", "uber"})
    cands = [
        Candidate(0, "Go powers tools at Google and Uber.", 1.0, frozenset({"go", "uber"}), 0, 0, 35),
        Candidate(1, "Go leads. Go powers tools at Google and Uber.", 0.95, frozenset({"go", "uber"}), 3, 40, 85),
        Candidate(1, "Go powers tools at Google and Uber.", 0.95, frozenset({"go", "uber"}), 4, 50, 85),
    ]
    chosen = select_sentences(cands, q, limit=3)
    assert len(chosen) == 1


def test_extractive_answer_second_time_embeds_no_passage_sentence_again(fake_embedder):
    engine = ExtractiveEngine(fake_embedder, min_relevance=0.0)
    passages = [_passage(0, "Goroutines and channels make concurrent programs simple. Go compiles to one binary.", 0.8)]
    first = engine.answer("What are goroutines?", "What are goroutines?", passages)
    embedded = fake_embedder.embedded
    second = engine.answer("Why use goroutines?", "Why use goroutines?", passages)
    assert fake_embedder.embedded == embedded and not first.refused and not second.refused


def test_settings_validated_checks_everything_even_when_candidates_are_raised():
    import pytest

    from assistant.settings import Settings
    from corpus.errors import AssistantError

    assert Settings(k=10, candidates=3).validated().candidates == 10
    with pytest.raises(AssistantError, match="dense_weight"):
        Settings(k=10, candidates=3, dense_weight=2.0).validated()
