"""Numbered items of an article as the answer to a list question (assistant/numbered.py and the
extractive engine's use of it)."""

from __future__ import annotations

from assistant.extractive import ExtractiveEngine
from assistant.models import Passage
from assistant.numbered import best_run, numbered_runs


def _chunk(i: int, section: str, text: str, source: str = "impact.md") -> Passage:
    return Passage(chunk_id=f"{source}-{i}", text=text, title="Impact", source=source, section=section, score=1.0 / (i + 1),
                   dense_score=0.6)


# the shapes a web page reaches the index in: a numbered line after a lead-in (a list item), a
# numbered heading (a section), a short numbered heading sharing the chunk of the section before
ARTICLE = [
    _chunk(0, "Intro", "Data scientists want impact. Here is how to get there."),
    _chunk(1, "Step 1: Understand what impact looks like", "Impact differs by role. Measure it."),
    _chunk(2, "Step 2: Ensure your work solves a real problem", "Ask what decision the work informs.\n\nStep 3: Ensure there is buy-in\nTalk to stakeholders early."),
    _chunk(3, "Common challenges", "Here are typical deliverables and how they fail:\n\n- 1. You create an analysis but nobody acts on it\nGive a clear recommendation."),
    _chunk(4, "2. You ran an experiment but nobody uses the results", "Agree on the decision before the experiment.\n\n3. You built a model but the team does not use it\nBuild trust in its output."),
    _chunk(5, "4. You created a dashboard but nobody looks at it", "Ask what questions it answers. 5 of 9 dashboards die."),
]


def test_runs_are_read_from_headings_lines_and_list_items_alike():
    runs = numbered_runs(ARTICLE)
    assert [[i.n for i in r] for r in runs] == [[1, 2, 3], [1, 2, 3, 4]]
    assert runs[0][2].line == "Step 3: Ensure there is buy-in"
    assert [i.text for i in runs[1]][:2] == ["You create an analysis but nobody acts on it", "You ran an experiment but nobody uses the results"]


def test_the_run_the_best_passages_are_about_wins_and_a_count_in_the_question_decides():
    runs = numbered_runs(ARTICLE)
    assert best_run(runs, [ARTICLE[4], ARTICLE[3]]) is runs[1]
    assert best_run(runs, [ARTICLE[2], ARTICLE[4]], count=3) is runs[0]
    assert best_run(runs, [ARTICLE[0]]) is None


def test_a_list_question_gets_the_articles_numbered_items_each_cited(real_embedder):
    engine = ExtractiveEngine(real_embedder)
    engine.article = lambda source: ARTICLE
    q = "What are the given examples of common challenges?"
    answer = engine.answer(q, q, [ARTICLE[3], ARTICLE[4], ARTICLE[5]])
    bullets = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert [b.split(" [")[0] for b in bullets] == ["- You create an analysis but nobody acts on it", "- You ran an experiment but nobody uses the results",
                                                   "- You built a model but the team does not use it", "- You created a dashboard but nobody looks at it"]
    assert all(b.rstrip().endswith("]") for b in bullets) and len(answer.citations) == 3


def test_a_question_about_one_item_is_not_answered_with_the_whole_list(real_embedder):
    trends = [_chunk(i, f"{i + 1}. {t}", f"{t} matter in 2026. Teams adopt them.", "trends.md")
              for i, t in enumerate(["Lightweight Frameworks", "API-First Development", "Built-In Security Features"])]
    engine = ExtractiveEngine(real_embedder)
    engine.article = lambda source: trends
    q = "What security features do new frameworks provide?"
    answer = engine.answer(q, q, [trends[2], trends[0]])
    assert "API-First" not in answer.text
