"""ui.handlers called directly, on a real Assistant over a tiny corpus with the fake embedder."""

from __future__ import annotations

import pytest

from assistant.core import Assistant
from ui import handlers

RUST_Q = "Which Rust framework hits a million requests per second?"


def indexed(corpus, settings_for, embedder, min_relevance):
    # the fake embedder's cosines mean little: these tests set the relevance gate themselves
    a = Assistant.from_settings(settings_for(corpus, min_relevance=min_relevance), embedder=embedder)
    a.index()
    return a


@pytest.fixture
def assistant(tiny_corpus, settings_for, fake_embedder):
    return indexed(tiny_corpus, settings_for, fake_embedder, 0.0)


def test_respond_with_question_streams_pending_then_partial_then_final(assistant):
    views = list(handlers.respond(assistant, RUST_Q, [], []))
    assert len(views) >= 3
    assert "pending" in views[0].messages[-1]["content"] and not views[0].done
    assert "streaming" in views[1].messages[-1]["content"]
    final = views[-1]
    assert final.done and final.answer is not None and not final.answer.refused
    assert [m["role"] for m in final.messages] == ["user", "assistant"]
    assert 'href="#source-1"' in final.messages[-1]["content"]
    assert 'id="source-1"' in final.sources and "<mark>Actix Web tops benchmarks" in final.sources
    assert final.history == [(RUST_Q, final.answer.text)]


def test_respond_with_earlier_turns_keeps_them_and_does_not_mutate_inputs(assistant):
    first = list(handlers.respond(assistant, RUST_Q, [], []))[-1]
    shown, pairs = list(first.messages), list(first.history)
    second = list(handlers.respond(assistant, "What does Go compile to?", shown, pairs))[-1]
    assert len(second.messages) == 4 and len(second.history) == 2
    assert shown == first.messages and pairs == first.history


def test_respond_keeps_a_sources_panel_per_message(assistant):
    first = list(handlers.respond(assistant, RUST_Q, [], []))[-1]
    second = list(handlers.respond(assistant, "What does Go compile to?", first.messages, first.history, None, first.panels))[-1]
    assert len(second.panels) == len(second.messages) == 4
    assert second.panels[:2] == [first.sources, first.sources] and second.panels[2:] == [second.sources, second.sources]
    assert handlers.panel_for(second.panels, 1) == first.sources
    assert handlers.panel_for(second.panels, [3, None]) == second.sources


def test_panel_for_with_unknown_index_is_none():
    assert handlers.panel_for(["a", "b"], 2) is None
    assert handlers.panel_for(["a", "b"], None) is None
    assert handlers.panel_for([], 0) is None


def test_respond_with_follow_up_uses_history(assistant, monkeypatch):
    seen = {}
    real = assistant.ask_stream

    def spy(question, history=(), sources=None, engine=None):
        seen["history"], seen["engine"] = history, engine
        yield from real(question, history, sources, engine)

    monkeypatch.setattr(assistant, "ask_stream", spy)
    list(handlers.respond(assistant, "Who uses it?", [], [("What is Go good for?", "Concurrency [1].")], engine="extractive"))
    assert seen["history"] == (("What is Go good for?", "Concurrency [1]."),) and seen["engine"] == "extractive"


def test_respond_with_refused_question_shows_refusal_without_sources(tiny_corpus, settings_for, fake_embedder):
    strict = indexed(tiny_corpus, settings_for, fake_embedder, 1.5)  # no passage is relevant enough
    final = list(handlers.respond(strict, "Who won the football world cup?", [], []))[-1]
    assert final.answer.refused
    assert "refusal" in final.messages[-1]["content"]
    assert "No sources" in final.sources and 'class="source"' not in final.sources


def test_respond_with_blank_message_changes_nothing(assistant):
    assert list(handlers.respond(assistant, "   ", [], [])) == []


def test_respond_with_article_filter_cites_only_those_articles(assistant):
    final = list(handlers.respond(assistant, "Which company uses it for data science?", [], [], sources=["python.md"]))[-1]
    answer = final.answer
    assert answer.refused or {c.source for c in answer.citations} == {"python.md"}
    unfiltered = list(handlers.respond(assistant, RUST_Q, [], [], sources=["python.md"]))[-1].answer
    assert all(c.source == "python.md" for c in unfiltered.citations)


def test_respond_with_html_in_question_escapes_it(assistant):
    final = list(handlers.respond(assistant, "<img src=x onerror=alert(1)> Rust?", [], []))[-1]
    assert "<img" not in final.messages[0]["content"] and "&lt;img" in final.messages[0]["content"]


def test_respond_with_empty_index_shows_error_message(tmp_path, settings_for, fake_embedder):
    folder = tmp_path / "empty"
    folder.mkdir()
    assistant = Assistant.from_settings(settings_for(folder), embedder=fake_embedder)
    final = list(handlers.respond(assistant, RUST_Q, [], []))[-1]
    assert "error-reply" in final.messages[-1]["content"] and "assistant index" in final.messages[-1]["content"]
    assert "status-error" in handlers.status_html(assistant)
    assert handlers.article_choices(assistant) == []


def test_stopped_with_unfinished_reply_replaces_it_and_keeps_history(assistant):
    views = list(handlers.respond(assistant, RUST_Q, [], []))
    streaming = views[1]
    view = handlers.stopped(streaming.messages, streaming.history, streaming.panels)
    assert "Stopped before the answer was complete" in view.messages[-1]["content"]
    assert view.messages[0] == streaming.messages[0] and view.history == [] and len(view.panels) == 2


def test_stopped_with_finished_reply_changes_nothing(assistant):
    final = list(handlers.respond(assistant, RUST_Q, [], []))[-1]
    assert handlers.stopped(final.messages, final.history, final.panels).messages == final.messages


def test_respond_with_failing_assistant_says_so_and_logs(assistant, monkeypatch, caplog):
    def broken(question, history=(), sources=None, engine=None):
        raise RuntimeError("disk on fire")
        yield  # a generator, like the real one

    monkeypatch.setattr(assistant, "ask_stream", broken)
    final = list(handlers.respond(assistant, RUST_Q, [], []))[-1]
    assert final.done and "something went wrong" in final.messages[-1]["content"]
    assert "disk on fire" not in final.messages[-1]["content"] and "disk on fire" in caplog.text


def test_cleared_is_empty():
    view = handlers.cleared()
    assert view.messages == [] and view.history == [] and "Ask a question" in view.sources


def test_ask_json_matches_answer_to_dict(assistant):
    assert handlers.ask_json(assistant, RUST_Q) == assistant.ask(RUST_Q).to_dict()


def test_article_choices_are_title_and_source(assistant):
    assert handlers.article_choices(assistant) == [("Go in 2026", "go.md"), ("Python in 2026", "python.md"), ("Rust in 2026", "rust.md")]


def test_examples_come_from_the_indexed_articles_topic_headings():
    outline = [("a.md", "Backend trends", ("1. Serverless Computing", "Conclusion")),
               ("b.md", "Frameworks", ("What are Backend Frameworks?", "Spring Boot")),
               ("c.md", "Plain", ())]
    assert handlers.examples_for(outline) == [
        "What does “Backend trends” say about Serverless Computing?",
        "What do the articles say about Spring Boot?",
        "What does “Plain” say?",
        "Summarize “Frameworks”.",
    ]
    assert handlers.examples_for([("go.md", "Go in 2026")]) == ["What does “Go in 2026” say?"]
    assert handlers.examples_for([("g.md", "Bullet Kin", ("Keybullet Kin",))]) == [
        "What does “Bullet Kin” say about Keybullet Kin?", "Summarize “Bullet Kin”."]


def test_examples_differ_when_the_window_serves_another_collection(assistant):
    outline = assistant.outline()
    assert [title for _, title, _ in outline] == ["Go in 2026", "Python in 2026", "Rust in 2026"]
    assert outline[0][2] == ("Concurrency", "Deployment")
    examples = handlers.examples_for(outline)
    assert examples[0] == "What does “Go in 2026” say about Concurrency?" and "Summarize “Rust in 2026”." in examples


def test_upload_with_new_and_bad_files_updates_status_and_choices(assistant, tmp_path):
    good = tmp_path / "zig.md"
    good.write_text("---\ntitle: Zig in 2026\n---\n\nZap, a Zig web framework, serves three million websocket connections.\n")
    bad = tmp_path / "photo.md"
    bad.write_bytes(b"\x00\x01binary")
    progress: list[float] = []
    view = handlers.upload(assistant, [str(good), str(bad)], progress=lambda f, text: progress.append(f))
    assert '<li class="ok">✓ zig.md: saved as zig.md</li>' in view.result
    assert 'class="refused"' in view.result and "binary" in view.result
    assert "1 added" in view.result and "4 articles" in view.status
    assert ("Zig in 2026", "zig.md") in view.choices and progress[-1] == 1.0


def test_upload_with_name_path_pairs_judges_the_given_name(assistant, tmp_path):
    path = tmp_path / "x.md"
    path.write_text("---\ntitle: Escape\n---\n\nNot outside.\n")
    view = handlers.upload(assistant, [("../../x.md", str(path))])
    assert "../../x.md: a file name must not contain a folder path; refused" in view.result
    assert not (assistant.settings.corpus_dir / "x.md").exists()


def test_upload_with_no_files_says_so(assistant):
    assert "No files chosen" in handlers.upload(assistant, None).result
