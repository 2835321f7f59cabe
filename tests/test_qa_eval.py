"""``assistant eval --qa``: scoring (pure), folder errors, and a real run on a small folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataclasses import replace

from assistant.models import Answer, Citation, Generation
from assistant.qa_eval import QaItem, answer_recall, first_token_at, load_qa, score_qa, summarize_qa
from corpus.errors import AssistantError


def _answer(text: str, sources: tuple[str, ...] = (), refused: bool = False) -> Answer:
    cites = tuple(Citation(n=i + 1, title="t", source=s, text="x", score=1.0) for i, s in enumerate(sources))
    return Answer(question="q", text=text, citations=cites, refused=refused, reason="not_covered" if refused else None)


def test_answer_recall_counts_stemmed_content_words_and_ignores_stopwords():
    assert answer_recall("The keys are dropped upon death.", "Keybullet kin drop a key when it dies; death drops keys") == pytest.approx(3 / 4)  # key, drop, death of key, drop, death, upon
    assert answer_recall("the and of", "anything") == 0.0


def test_score_qa_needs_half_the_reference_words_and_the_right_document():
    item = QaItem("single", "What do keybullet kin drop?", "doc.txt", "Keybullet kin drop a key upon death.")
    good = score_qa(item, _answer("Keybullet kin drop a key [1].", ("doc.txt",)), 0.1, None)
    assert good.correct and good.right_document and not good.refused
    short = score_qa(item, _answer("A key [1].", ("other.txt",)), 0.1, None)
    assert not short.correct and not short.right_document
    refused = score_qa(item, _answer("Not covered.", refused=True), 0.1, None)
    assert not refused.correct and refused.refused


def test_summary_counts_refusals_on_no_answer_and_false_refusals():
    a = QaItem("single", "q1", "d", "alpha beta")
    n = QaItem("no_answer", "q2", "d")
    results = [
        score_qa(a, _answer("alpha beta [1]", ("d",)), 0.2, None),
        score_qa(a, _answer("no", refused=True), 0.4, None),
        score_qa(n, _answer("no", refused=True), 0.3, None),
    ]
    m = summarize_qa(results)
    assert (m["correct"], m["refusals"], m["false_refusals"], m["no_answer"]) == (0.5, 1.0, 1.0, 1.0)
    assert m["latency_p50_s"] == pytest.approx(0.3)


def test_time_to_first_token_counts_from_the_question_and_is_reported_apart_from_the_first_text():
    generated = replace(_answer("Alpha beta [1].", ("d",)), generation=Generation("local", first_token_s=1.0, tokens=10, seconds=3.0))
    # the answer arrived 5 s after the question; generation took its last 3 s, the first token came 1 s in
    assert first_token_at(generated, ended=5.0) == pytest.approx(3.0)
    assert first_token_at(_answer("Alpha beta [1].", ("d",)), ended=5.0) is None  # extractive: no generation
    a = QaItem("single", "What is alpha?", "d", "alpha beta")
    m = summarize_qa([score_qa(a, generated, 5.0, 4.2, 3.0)], timed_first_text=True)
    assert m["first_token_p50_s"] == pytest.approx(3.0) and m["first_text_p50_s"] == pytest.approx(4.2)


def test_load_qa_rejects_a_folder_without_documents_and_unknown_documents(tmp_path: Path):
    with pytest.raises(AssistantError, match="no documents/ folder"):
        load_qa(tmp_path)
    (tmp_path / "documents").mkdir()
    (tmp_path / "questions.jsonl").write_text(json.dumps({"kind": "single", "q": "q", "document": "gone.txt", "answer": "a"}) + "\n")
    with pytest.raises(AssistantError, match="gone.txt"):
        load_qa(tmp_path)
    (tmp_path / "questions.jsonl").write_text(json.dumps({"kind": "weird", "q": "q", "document": "gone.txt"}) + "\n")
    with pytest.raises(AssistantError, match=r"questions.jsonl:1"):
        load_qa(tmp_path)


@pytest.mark.slow
def test_eval_qa_on_a_small_folder_indexes_it_apart_and_scores_real_answers(tmp_path: Path, real_embedder):
    from assistant.core import Assistant
    from assistant.factory import build_components
    from assistant.qa_eval import qa_data_dir, run_qa
    from assistant.settings import Settings

    folder = tmp_path / "qa"
    docs = folder / "documents"
    docs.mkdir(parents=True)
    (docs / "gungeon.txt").write_text(
        "Bullet Kin\n\nBullet Kin are the most common enemy. Keybullet Kin run away from the player and drop a key upon death.\n\n"
        "Bandana Bullet Kin wield a machine pistol and fire quick bursts.\n", encoding="utf-8")
    (docs / "bakery.txt").write_text(
        "Sourdough basics\n\nA sourdough starter is flour and water fermented by wild yeast. Feed the starter every day with equal weights of flour and water.\n",
        encoding="utf-8")
    questions = [
        {"kind": "single", "q": "What do keybullet kin drop?", "document": "gungeon.txt", "answer": "Keybullet kin drop a key upon death."},
        {"kind": "single", "q": "What is a sourdough starter?", "document": "bakery.txt", "answer": "Flour and water fermented by wild yeast."},
        {"kind": "no_answer", "q": "How much health does the Mutant Bullet Kin have?", "document": "gungeon.txt"},
    ]
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    s = settings.with_(corpus_dir=docs, data_dir=qa_data_dir(settings, docs))
    s.data_dir.mkdir(parents=True)
    assistant = Assistant(build_components(s, embedder=real_embedder))
    report = run_qa(settings, folder, assistant=assistant)
    by_q = {r.question: r for r in report.items}
    assert by_q["What do keybullet kin drop?"].correct
    assert by_q["What do keybullet kin drop?"].cited_documents == ("gungeon.txt",)
    assert by_q["What is a sourdough starter?"].right_document
    assert report.metrics["questions"] == 3
    assert (tmp_path / "data" / "qa").is_dir()  # its own data folder, not the assistant's index
    assert any("expected" in block for block in report.misses()) or report.metrics["refusals"] == 1
