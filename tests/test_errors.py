"""One error hierarchy: defined in corpus.errors (the bottom layer), re-exported by assistant."""

from __future__ import annotations

import json

import assistant
import assistant.errors as errors
import corpus.errors


def test_assistant_errors_are_the_corpus_classes_not_copies():
    for name in corpus.errors.__all__:
        assert getattr(errors, name) is getattr(corpus.errors, name)
        assert getattr(assistant, name) is getattr(corpus.errors, name)
    assert sorted(errors.__all__) == sorted(corpus.errors.__all__)


def test_every_error_has_one_root_and_the_docstring_draws_each():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AssistantError)
        assert name in (errors.__doc__ or "")
    assert issubclass(errors.ArticleError, errors.CorpusError)


def test_an_index_error_raised_below_is_caught_as_the_assistant_error():
    try:
        raise corpus.errors.IndexStateError("the index is empty")
    except errors.AssistantError as exc:  # what CLI and UI catch
        assert str(exc) == "the index is empty"


def test_a_refused_answer_tells_a_json_client_why():
    refused = assistant.Answer(question="", text="Please type a question.", refused=True, reason="empty_question", notices=("n",))
    data = json.loads(json.dumps(refused.to_dict()))
    assert (data["refused"], data["reason"], data["notices"]) == (True, "empty_question", ["n"])
    assert "engine" in data
