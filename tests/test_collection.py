"""Collection-wide, comparison and summary answers on the sample articles: the real packaged model,
a real embedded Chroma, the real knowledge made at index time."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.models import Answer
from assistant.shape_eval import load_shape_questions, named, run_shape_eval
from tests.conftest import CORPUS, REPO

pytestmark = pytest.mark.slow

SHAPE_SET = REPO / "tests" / "data" / "shape_questions.jsonl"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, real_embedder) -> Assistant:
    tmp = tmp_path_factory.mktemp("shapes")
    assistant = Assistant.from_settings(Settings(corpus_dir=CORPUS, data_dir=tmp / "data"), embedder=real_embedder)
    assistant.index()
    return assistant


def _cited_sources(answer: Answer) -> set[str]:
    return {c.source for c in answer.citations}


def _check_citations(answer: Answer) -> None:
    """Every [n] points at a citation; every quote is in its passage and in the article."""
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert numbers == {c.n for c in answer.citations}
    for c in answer.citations:
        article = " ".join((CORPUS / c.source).read_text(encoding="utf-8").split())
        assert " ".join(c.text.split()) in article
        for quote in c.quotes:
            assert " ".join(quote.split()) in " ".join(c.text.split())


def test_what_is_this_article_about_summarises_the_one_article_it_is_limited_to(indexed):
    for source in ("eleorex-backend-framework-trends-2026.md", "selecting-your-2026-backend-foundation.md"):
        answer = indexed.ask("What is this article about?", sources=[source])
        assert answer.shape == "summary" and not answer.refused and len(answer.citations) >= 3
        assert _cited_sources(answer) == {source}
        *deltas, streamed = indexed.ask_stream("What are the key topics of this article?", sources=[source])
        assert streamed.shape == "summary" and _cited_sources(streamed) == {source}
    two = indexed.ask("What is this article about?", sources=["eleorex-backend-framework-trends-2026.md", "best-backend-frameworks-2026.md"])
    assert two.shape != "summary"  # limited to two articles: "this article" names neither


def test_pros_and_cons_put_each_argument_on_its_side_of_a_cited_table(indexed):
    answer = indexed.ask("What are the pros and cons of microservices?")
    assert answer.shape == "collection" and not answer.refused
    header, rule, *rows = [line for line in answer.text.splitlines() if line.startswith("|")]
    assert header == "| Pros | Cons |" and rows
    pros = " ".join(r.split(" | ")[0] for r in rows)
    cons = " ".join(r.split(" | ")[1] for r in rows)
    assert "independently" in pros and "complex" not in pros
    assert "complexity" in cons
    assert all(re.search(r"\[\d+\]", cell) for r in rows for cell in r.strip("| ").split(" | ") if cell != "—")


def test_a_question_for_the_main_themes_names_what_several_articles_share(indexed):
    for q in ("What are the main themes of the articles?", "What are the key takeaways of the articles?"):
        answer = indexed.ask(q)
        assert answer.shape == "collection" and not answer.refused, q
        shared = re.findall(r"— ([2-5]) of 5 articles", answer.text)
        assert len(shared) >= 3, answer.text


def test_summary_returns_the_named_articles_key_points_in_order(indexed):
    answer = indexed.ask("Summarize the article about developer priorities.")
    assert answer.shape == "summary" and not answer.refused
    assert _cited_sources(answer) == {"what-developers-are-prioritizing-2026.md"}
    text = (CORPUS / "what-developers-are-prioritizing-2026.md").read_text(encoding="utf-8")
    positions = [text.find(c.quotes[0]) for c in answer.citations]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)  # reading order
    assert len(answer.text.splitlines()) >= 6
    _check_citations(answer)


def test_comparison_answers_side_by_side_every_cell_cited(indexed):
    answer = indexed.ask("Compare Spring Boot and Express.")
    assert answer.shape == "comparison" and not answer.refused
    rows = [line for line in answer.text.splitlines() if line.startswith("|")]
    assert rows[0] == "| Spring Boot | Express |" and rows[1] == "|---|---|"
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 2 and all(c == "—" or re.search(r"\[\d+\]", c) for c in cells)
    left = " ".join(r.split(" | ")[0] for r in rows[2:])
    right = " ".join(r.split(" | ")[1] for r in rows[2:])
    assert "Spring Boot" in left and "Express" in right  # each side's cells are about that side
    assert len(_cited_sources(answer)) >= 2
    _check_citations(answer)


def test_trend_question_groups_points_by_how_many_articles_make_them(indexed):
    answer = indexed.ask("What trends do the articles expect for backend development in 2026?")
    assert answer.shape == "collection" and not answer.refused
    counts = [int(m) for m in re.findall(r"— (\d+) of 5 articles", answer.text)]
    assert len(counts) >= 3 and counts == sorted(counts, reverse=True) and counts[0] >= 3
    for line in answer.text.splitlines():
        if line.startswith("- "):
            n = int(re.search(r"(\d+) of 5 articles", line).group(1))
            marks = re.search(r"articles ((?:\[\d+\])+):", line).group(1)
            cited = {next(c.source for c in answer.citations if c.n == int(x)) for x in re.findall(r"\d+", marks)}
            assert len(cited) == n  # "3 of 5 articles" cites three different articles
    _check_citations(answer)


def test_entity_question_counts_names_per_article(indexed):
    answer = indexed.ask("Which frameworks do the articles mention most often?")
    assert answer.shape == "collection"
    names = re.findall(r"^- \*\*(.+?)\*\* — (\d+) of 5 articles", answer.text, re.M)
    assert len(names) >= 4 and [int(n) for _, n in names] == sorted((int(n) for _, n in names), reverse=True)
    assert {"Django", "Express"} <= {n for n, _ in names}
    _check_citations(answer)


def test_which_articles_mention_a_name_lists_each_with_its_sentence(indexed):
    answer = indexed.ask("Which articles mention NestJS?")
    assert re.match(r"\d of 5 articles mention \*\*NestJS\*\*", answer.text)
    assert all("NestJS" in c.text for c in answer.citations) and len(_cited_sources(answer)) >= 2


def test_a_name_no_article_uses_is_refused(indexed):
    answer = indexed.ask("What do the articles say about Perl's Mojolicious framework?")
    assert answer.refused and answer.reason == "not_covered" and not answer.citations
    assert indexed.ask("Compare Mojolicious and Catalyst").refused


def test_ask_stream_yields_the_answer_line_by_line(indexed):
    pieces = list(indexed.ask_stream("Django vs FastAPI"))
    answer = pieces[-1]
    assert isinstance(answer, Answer) and answer.shape == "comparison"
    assert "".join(p.text for p in pieces[:-1]) == answer.text and len(pieces) > 3


def test_chat_window_renders_a_comparison_as_a_table(indexed):
    from ui.render import answer_html

    markup = answer_html(indexed.ask("Compare Express and NestJS."))
    assert "<table" in markup and "<th>Express</th>" in markup and 'class="cite"' in markup
    assert "|---|" not in markup and "\n" not in markup


def test_shape_dev_set_alarm(indexed):
    """An alarm, not a target: the set was written before the method and measures it (see
    docs/shapes.md); a pass rate far below what it scores now means something broke."""
    report = run_shape_eval(indexed, load_shape_questions(SHAPE_SET))
    assert report.pass_rate >= 0.6, "\n".join(report.misses())
    collection = [r.seconds for r in report.results if r.item.shape == "collection"]
    assert statistics.median(collection) < 3.0


def test_named_matches_names_whole_and_terms_by_prefix():
    assert named("Go leads", "Go") and not named("Google leads", "Go") and not named("go there", "Go")
    assert named("Microservices win", "microservice") and not named("nanomicroservice", "microservice")


def test_shape_set_loader_names_the_bad_line(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "x", "shape": "factoid"}\n{"q": "y", "shape": "poem"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        load_shape_questions(bad)
