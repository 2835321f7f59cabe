"""ui.render: escaped markup, citation links, highlighted quotes, refusals without sources."""

from __future__ import annotations

from assistant.models import Answer, Citation
from ui import render

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> **bold**'


def cited(text: str = "Actix Web tops benchmarks [1]. Rocket is clean [2].", **kw) -> Answer:
    citations = (
        Citation(1, "Rust <b>2026</b>", "rust.md", "Rust climbs. Actix Web tops benchmarks, hitting 1 million requests.", 0.9,
                 section="Speed", publisher="ACME & Co", date="2026-03", quotes=("Actix Web tops benchmarks, hitting 1 million requests.",)),
        Citation(2, "Rocket", "rocket.md", "Rocket is clean.", 0.5, quotes=("Rocket is clean.",)),
    )
    return Answer(question="Which <b>Rust</b> framework?", text=text, citations=citations, **kw)


def test_answer_html_with_markers_links_each_to_its_source():
    out = render.answer_html(cited())
    assert '<a class="cite" href="#source-1" title="Source 1">[1]</a>' in out
    assert 'href="#source-2"' in out
    assert "benchmarks<a" in out  # the space before a marker is dropped


def test_answer_html_with_out_of_range_marker_is_plain_text():
    out = render.answer_html(cited("Claim [7]."))
    assert "[7]" in out and "#source-7" not in out


def test_answer_html_with_hostile_text_is_escaped():
    out = render.answer_html(cited(HOSTILE + " [1]"))
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "onerror=&quot;alert(2)&quot;" in out


def test_answer_html_is_one_markdown_block():
    out = render.answer_html(cited("First line [1].\n\nSecond paragraph [2]."))
    assert "\n" not in out and out.startswith("<div") and "<br><br>" in out


def test_refusal_html_is_styled_apart_and_sources_are_empty():
    refusal = Answer(question="Who won the cup?", text="The articles do not cover this.", refused=True, reason="not_covered")
    assert 'class="reply refusal"' in render.answer_html(refusal) and "Not in the articles" in render.answer_html(refusal)
    panel = render.sources_html(refusal)
    assert "No sources" in panel and 'class="source"' not in panel


def test_sources_html_shows_title_meta_section_and_highlighted_quote():
    panel = render.sources_html(cited())
    assert 'id="source-1"' in panel and 'id="source-2"' in panel
    assert "Rust &lt;b&gt;2026&lt;/b&gt;" in panel and "ACME &amp; Co · 2026-03" in panel
    assert "§ Speed" in panel and "<code>rust.md</code>" in panel
    assert "<mark>Actix Web tops benchmarks, hitting 1 million requests.</mark>" in panel
    assert "Which &lt;b&gt;Rust&lt;/b&gt; framework?" in panel


def test_passage_html_with_hostile_passage_is_escaped_and_highlighted():
    text = f"Intro. {HOSTILE} Quoted sentence here."
    out = render.passage_html(text, ["Quoted   sentence\nhere."])
    assert "<script" not in out and "<img" not in out
    assert out.endswith("<mark>Quoted sentence here.</mark>")


def test_quote_spans_with_overlapping_and_missing_quotes_are_merged():
    text = "One two. Two three four. Five."
    assert render.quote_spans(text, ["One two. Two three", "Two three four.", "absent", ""]) == [(0, 24)]
    assert render.quote_spans(text, ["Five.", "One two."]) == [(0, 8), (25, 30)]


def test_partial_html_is_marked_streaming():
    out = render.partial_html("Actix Web tops [1]. ")
    assert "streaming" in out and 'href="#source-1"' in out


def test_status_line_with_counts_and_time():
    assert render.status_line({"articles": 1, "chunks": 94, "last_indexed": None}) == (
        '<div class="status">1 article · 94 passages · last indexed never</div>'
    )
    assert "last indexed 20" in render.status_line({"articles": 5, "chunks": 3, "last_indexed": 1.8e9})


def test_status_line_with_error_is_escaped():
    assert "&lt;x&gt;" in render.status_line(None, error="index <x> is empty")


def test_upload_html_marks_ok_and_refused_lines():
    out = render.upload_html([(True, "a.md: saved as a.md"), (False, "<b>.md: refused")], "Indexed: 1 added")
    assert '<li class="ok">✓ a.md: saved as a.md</li>' in out
    assert '<li class="refused">✗ &lt;b&gt;.md: refused</li>' in out and "Indexed: 1 added" in out


def test_refusal_html_for_too_long_question_says_so():
    refusal = Answer(question="x", text="The question is too long.", refused=True, reason="question_too_long")
    assert '<span class="refusal-tag">Too long</span>' in render.answer_html(refusal)


def test_answer_html_with_sentence_checks_reports_support():
    from assistant.models import SentenceCheck

    checks = (
        SentenceCheck("A [1].", "supported", (1,), 1, 0.9),
        SentenceCheck("B.", "unsupported"),
        SentenceCheck("Not covered.", "note"),
    )
    out = render.answer_html(cited(engine="local", checks=checks))
    assert "local engine · 1 of 2 generated sentences supported by the passages · 1 without support removed" in out
    assert "answer-checks" not in render.answer_html(cited())


def test_pending_html_names_the_chosen_articles():
    assert "Searching the articles" in render.pending_html()
    assert "Searching the 1 chosen article…" in render.pending_html(1)
    assert "Searching the 2 chosen articles…" in render.pending_html(2)


def test_a_not_in_passages_refusal_shows_the_passages_read_as_related_not_as_sources():
    from assistant.models import Answer, Citation

    near = Citation(n=1, title="Go in 2026", source="go.md", text="Go powers tools at Google.", score=0.4, quotes=("Go powers tools at Google.",))
    refused = Answer(question="Who won?", text="The passages do not say.", refused=True, reason="not_in_passages", related=(near,))
    panel = render.sources_html(refused)
    assert "Not answered" in panel and "Go in 2026" in panel and "go.md" in panel
    assert "No sources" in render.sources_html(Answer(question="q", text="t", refused=True, reason="not_covered"))


def test_cli_lists_related_passages_of_a_refusal():
    from assistant.cli import _render
    from assistant.models import Answer, Citation

    near = Citation(n=1, title="Go in 2026", source="go.md", text="Go.", score=0.4, section="Adoption")
    out = _render(Answer(question="Who won?", text="The passages do not say.", refused=True, related=(near,)))
    assert "Closest passages" in out and "Go in 2026 (go.md) — Adoption" in out
