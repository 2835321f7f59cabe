"""Saved conversations, their Markdown export, feedback from the window and the answer tags:
the pure parts (ui.conversations, ui.saving, ui.render), no server."""

from __future__ import annotations

import json
import os

import pytest

from assistant.feedback import FeedbackStore
from assistant.models import Answer, Citation
from ui import conversations as conv
from ui import render, saving

PASSAGE = "Go is popular. Goroutines and channels make concurrent programs simple. Uber uses it."


def cited(question: str = "What are goroutines good for?", text: str = "They make concurrency simple [1].") -> Answer:
    c = Citation(1, "Go in 2026", "go.md", PASSAGE, 0.9, section="Concurrency", publisher="Dev Weekly", date="2026-01",
                 quotes=("Goroutines and channels make concurrent programs simple.",))
    return Answer(question=question, text=text, citations=(c,), engine="local")


def refused(question: str = "Who won the 1998 World Cup?") -> Answer:
    return Answer(question=question, text="The articles do not cover this.", refused=True, reason="not_covered")


def two_turns() -> dict:
    c = conv.add_turn(conv.new_conversation(now=1.0), "What are goroutines good for?", cited(), message=1, now=2.0)
    return conv.add_turn(c, "Who won the 1998 World Cup?", refused(), message=3, now=3.0)


def test_add_turn_titles_the_conversation_with_its_first_question_and_leaves_the_input_alone():
    empty = conv.new_conversation(now=1.0)
    one = conv.add_turn(empty, "What are goroutines good for?", cited(), message=1)
    two = conv.add_turn(one, "And channels?", cited("And channels?"), message=3)
    assert empty["turns"] == [] and empty["title"] == ""
    assert two["title"] == "What are goroutines good for?" and [t["question"] for t in two["turns"]] == ["What are goroutines good for?", "And channels?"]
    assert two["engine"] == "local" and json.loads(json.dumps(two)) == two  # plain JSON for the browser store


def test_restore_draws_answers_and_sources_with_highlighted_quotes_again():
    shown = conv.restore(two_turns())
    assert [m["role"] for m in shown.messages] == ["user", "assistant", "user", "assistant"]
    assert 'class="cite"' in shown.messages[1]["content"] and "local model" in shown.messages[1]["content"]
    assert "<mark>Goroutines and channels make concurrent programs simple.</mark>" in shown.panels[1]
    assert "§ Concurrency" in shown.panels[1] and "Dev Weekly" in shown.panels[1]
    assert shown.history == [("What are goroutines good for?", "They make concurrency simple [1]."),
                             ("Who won the 1998 World Cup?", "The articles do not cover this.")]
    assert "No sources" in shown.sources  # the last answer was refused


@pytest.mark.parametrize("value", ["garbage", 42, [], {"version": 1}, {"conversations": "x"},
                                   {"conversations": [{"id": "a", "turns": [{"question": "q", "answer": {"answer": 3}}]}]},
                                   {"conversations": [{"id": "a", "turns": [{"question": "q", "answer": {"answer": "t", "citations": [{"x": 1}]}}]}]}])
def test_parse_store_with_a_damaged_value_says_so_in_one_line_and_passes_nothing_bad_on(value):
    convs, problem = conv.parse_store(value)
    assert convs == [] and problem == conv.STORE_DAMAGED and "\n" not in problem


def test_parse_store_keeps_the_good_conversations_of_a_partly_damaged_store():
    good = two_turns()
    convs, problem = conv.parse_store({"version": 1, "conversations": [good, {"id": 5}]})
    assert convs == [good] and problem == conv.STORE_DAMAGED
    assert conv.parse_store(None) == ([], None) and conv.parse_store(conv.store_of([good])) == ([good], None)


def test_saved_puts_the_latest_first_replaces_its_old_copy_and_drops_empty_ones():
    a, b = two_turns(), two_turns()
    listing = conv.saved(conv.saved([], a), b)
    assert [c["id"] for c in listing] == [b["id"], a["id"]]
    a2 = conv.add_turn(a, "More?", cited("More?"), message=5)
    assert [c["id"] for c in conv.saved(listing, a2)] == [a["id"], b["id"]] and len(conv.saved(listing, a2)[0]["turns"]) == 3
    assert conv.saved(listing, conv.new_conversation()) == listing
    many = [dict(a, id=str(i)) for i in range(conv.MAX_CONVERSATIONS + 5)]
    assert len(conv.saved(many, b)) == conv.MAX_CONVERSATIONS


def test_rename_and_delete():
    a, b = two_turns(), two_turns()
    listing = [a, b]
    renamed, problem = conv.renamed(listing, b["id"], "  Go   questions ")
    assert problem is None and conv.choices(renamed) == [(a["title"], a["id"]), ("Go questions", b["id"])]
    assert conv.renamed(listing, b["id"], "   ")[1] == "A title needs at least one character."
    assert conv.renamed(listing, "nope", "x")[1] == "Pick a saved conversation to rename first."
    assert conv.deleted(listing, a["id"]) == [b] and conv.deleted(listing, "nope") == listing


def test_turn_at_finds_the_turn_of_an_answer_message_and_nothing_else():
    c = two_turns()
    assert conv.turn_at(c, 1)[0] == 0 and conv.turn_at(c, [3, 0])[0] == 1
    assert conv.turn_at(c, 0) is None and conv.turn_at(c, 2) is None and conv.turn_at(None, 1) is None
    moved = conv.renumbered(dict(c, turns=[dict(t, message=t["message"] + 4) for t in c["turns"]]))
    assert [t["message"] for t in moved["turns"]] == [1, 3]
    assert conv.history_before(c, 1) == ["What are goroutines good for?"]


def test_markdown_export_has_numbered_citations_quoted_passages_and_says_why_a_refusal_was():
    text = conv.to_markdown(two_turns(), now=0)
    assert text.startswith("# What are goroutines good for?\n")
    assert "## 1. What are goroutines good for?\n\nThey make concurrency simple [1]." in text
    assert "1. **Go in 2026** — Dev Weekly · 2026-01 — `go.md`, § Concurrency" in text
    assert "   > Goroutines and channels make concurrent programs simple." in text
    assert "## 2. Who won the 1998 World Cup?" in text and "_No answer (the articles do not cover this question)._" in text
    assert "local model engine" in text
    assert conv.to_markdown(conv.new_conversation()) is None
    assert conv.export_name(two_turns()) == "conversation-what-are-goroutines-good-for.md"
    assert conv.export_name({"id": "abc", "title": "../../etc/passwd"}) == "conversation-etc-passwd.md"


def test_export_of_an_empty_conversation_is_one_message_and_writes_nothing(tmp_path):
    assert saving.export(None, tmp_path) == (None, conv.EMPTY_EXPORT)
    assert saving.export(conv.new_conversation(), tmp_path) == (None, conv.EMPTY_EXPORT)
    assert list(tmp_path.iterdir()) == []
    path, problem = saving.export(two_turns(), tmp_path)
    assert problem == "" and path.name == "conversation-what-are-goroutines-good-for.md" and "[1]" in path.read_text()
    os.utime(path.parent, (0, 0))  # an export from long ago goes at the next one
    again, _ = saving.export(two_turns(), tmp_path)
    assert not path.exists() and again.exists() and again != path


def test_feedback_on_an_answer_writes_one_line_and_a_comment_a_second_with_the_same_id(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    c = two_turns()
    result = saving.give_feedback(store, c, 3, False)
    assert result.ok and result.record["verdict"] == "down"
    [line] = store.read()
    assert line["question"] == "Who won the 1998 World Cup?" and line["turns"] == ["What are goroutines good for?"]
    assert line["reason"] == "not_covered" and line["comment"] == ""
    commented = saving.give_comment(store, result.record, "It is the 1998 final,\nplease check")
    assert commented.ok and [r["id"] for r in store.read()] == [line["id"], line["id"]]
    assert store.read()[-1]["comment"] == "It is the 1998 final, please check"
    up = saving.give_feedback(store, c, [1, 0], True)
    assert up.record["citations"] == [{"n": 1, "title": "Go in 2026", "source": "go.md", "text": PASSAGE}]


def test_feedback_on_something_that_is_not_an_answer_writes_nothing(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    assert saving.give_feedback(store, two_turns(), 2, False).message == saving.NOT_AN_ANSWER
    assert saving.give_feedback(store, None, 1, True).message == saving.NOT_AN_ANSWER
    assert saving.give_feedback(store, two_turns(), 1, "Helpful").record is None  # not a thumbs verdict
    assert saving.give_comment(store, None, "x").ok is False
    assert not store.path.exists()


def test_feedback_file_that_cannot_be_written_is_one_clear_message(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    store = FeedbackStore(blocker / "feedback.jsonl")
    result = saving.give_feedback(store, two_turns(), 1, False)
    assert not result.ok and result.record is None
    assert result.message.startswith("feedback not saved: feedback.jsonl cannot be written") and "\n" not in result.message
    assert str(tmp_path) not in result.message  # no server paths shown


def test_answer_bubbles_carry_an_engine_tag_and_a_refusal_says_why():
    assert '<span class="engine-tag"' in render.answer_html(cited()) and ">local model</span>" in render.answer_html(cited())
    assert ">extractive</span>" in render.answer_html(refused())
    assert "Why: the articles do not cover this question." in render.answer_html(refused())
    passages = Answer(question="q", text="No.", refused=True, reason="not_in_passages", engine="local")
    assert "Not in the passages" in render.answer_html(passages) and "do not answer it" in render.answer_html(passages)
    nobody = Answer(question="Who won?", text="No.", refused=True, reason="no_name")
    assert "No one named" in render.answer_html(nobody) and "name no one for it" in render.answer_html(nobody)
    assert "state no number" in render.answer_html(Answer(question="How many?", text="No.", refused=True, reason="no_number"))


def test_structured_answers_render_code_blocks_and_inline_code_escaped_with_links_working():
    text = "Use this [1]:\n```\n<script>alert(1)</script>\nx = [1]\n```\n- `go run` starts it [1]"
    out = render.structured_html(text, range(1, 2))
    assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\nx = [1]</code></pre>" in out
    assert "<li><code>go run</code> starts it" in out and out.count('class="cite"') == 2


def test_store_drops_the_oldest_conversations_beyond_the_browsers_budget():
    big = conv.add_turn(conv.new_conversation(), "q?", cited(text="x" * 600_000), message=1)
    many = [dict(big, id=str(i)) for i in range(5)]
    kept = conv.store_of(many)["conversations"]
    assert [c["id"] for c in kept] == ["0", "1", "2"]  # newest first, under MAX_STORE_CHARS together
    huge = dict(big, id="h", turns=big["turns"] * 4)
    assert [c["id"] for c in conv.store_of([huge, *many])["conversations"]] == ["h"]  # the newest is always kept


def test_a_fetched_articles_url_survives_saving_reopening_and_export_and_only_web_addresses_do():
    from dataclasses import replace

    web = replace(cited().citations[0], url="https://example.org/go")
    saved = conv.add_turn(conv.new_conversation(now=1.0), "What are goroutines good for?",
                          replace(cited(), citations=(web,)), message=1, now=2.0)
    record = json.loads(json.dumps(saved))  # what the browser keeps
    assert conv.answer_of(record["turns"][0]["answer"]).citations[0].url == "https://example.org/go"
    assert "<https://example.org/go>" in conv.to_markdown(record, now=0)
    record["turns"][0]["answer"]["citations"][0]["url"] = "javascript:alert(1)"
    assert conv.answer_of(record["turns"][0]["answer"]).citations[0].url is None
