"""The feedback file (assistant.feedback): one writer at a time, nothing lost or interleaved, and
``assistant eval --feedback`` turning thumbs-down lines into a question file."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from assistant.evaluation import load_questions
from assistant.feedback import FeedbackStore, comment_record, feedback_record, latest, review_questions
from corpus.errors import AssistantError
from conftest import REPO

ANSWER = {"answer": "Goroutines make concurrency simple [1].", "refused": False, "reason": None, "engine": "extractive",
          "citations": [{"n": 1, "title": "Go", "source": "go.md", "text": "Goroutines and channels.", "score": 0.9}]}


def big_record(i: int) -> dict:
    # ~20 KB a line: far over PIPE_BUF, so a line written in pieces would interleave
    answer = dict(ANSWER, answer=f"answer {i} " + "x" * 20_000)
    return feedback_record("down" if i % 2 else "up", f"question {i}?", answer, record_id=f"r{i}")


def test_append_then_read_round_trips_and_skips_a_damaged_line(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.jsonl")
    store.append(feedback_record("down", "What is Go?", ANSWER, record_id="a", now=5.0))
    with open(store.path, "a", encoding="utf-8") as f:
        f.write('{"half a line\n')
    store.append(feedback_record("up", "What is Rust?", ANSWER, record_id="b"))
    records = store.read()
    assert [r["id"] for r in records] == ["a", "b"] and records[0]["time"] == 5.0
    assert records[0]["citations"] == [{"n": 1, "title": "Go", "source": "go.md", "text": "Goroutines and channels."}]
    with pytest.raises(ValueError, match="verdict must be one of"):
        feedback_record("meh", "q", ANSWER)


def test_twenty_threads_appending_at_once_lose_and_interleave_nothing(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    start = threading.Barrier(20)

    def click(i: int) -> None:
        start.wait()
        for j in range(5):
            store.append(big_record(i * 5 + j))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = store.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 100
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(f"r{i}" for i in range(100))


def test_four_processes_appending_at_once_lose_and_interleave_nothing(tmp_path):
    path = tmp_path / "feedback.jsonl"
    code = (
        "import sys, pathlib; from assistant.feedback import FeedbackStore, feedback_record\n"
        "s = FeedbackStore(pathlib.Path(sys.argv[1])); k = int(sys.argv[2])\n"
        "for i in range(25):\n"
        "    s.append(feedback_record('down', 'q?', {'answer': 'x' * 20000}, record_id=f'r{k * 100 + i}'))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(k)], cwd=REPO) for k in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    ids = [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(ids) == sorted(f"r{k * 100 + i}" for k in range(4) for i in range(25))


def test_an_unwritable_feedback_file_is_one_line_error_naming_only_the_file(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(AssistantError) as err:
        FeedbackStore(tmp_path / "data" / "feedback.jsonl").append(big_record(1))
    assert str(err.value).startswith("feedback not saved: feedback.jsonl cannot be written") and str(tmp_path) not in str(err.value)


def test_review_questions_take_the_thumbs_down_once_each_with_comment_and_follow_up_turns(tmp_path):
    down = feedback_record("down", "Which companies use Go?", ANSWER, record_id="a")
    records = [
        down,
        feedback_record("up", "What is Go?", ANSWER, record_id="b"),
        comment_record(down, "Uber is missing"),
        feedback_record("down", " which  companies use go? ", ANSWER, record_id="c"),  # the same question again
        feedback_record("down", "And its speed?", ANSWER, turns=["What is Rust?"], record_id="d"),
        feedback_record("down", "Was good", ANSWER, record_id="e"),
        comment_record(feedback_record("up", "Was good", ANSWER, record_id="e"), "changed my mind"),
    ]
    assert [r["id"] for r in latest(records)] == ["a", "b", "c", "d", "e"]
    items = review_questions(records)
    assert [i["id"] for i in items] == ["fb-a", "fb-d"]
    assert items[0]["q"] == "Which companies use Go?" and items[0]["evidence"] == [] and items[0]["answer_any"] == []
    assert items[0]["feedback"]["comment"] == "Uber is missing" and items[0]["feedback"]["cited"] == ["go.md"]
    assert items[1]["turns"] == ["What is Rust?", "And its speed?"] and "q" not in items[1]
    path = tmp_path / "review.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    loaded = load_questions(path)  # the dev-set loader reads it as it is
    assert [q.turns for q in loaded] == [("Which companies use Go?",), ("What is Rust?", "And its speed?")]


def test_cli_eval_feedback_writes_the_question_file(tmp_path):
    data = tmp_path / "data"
    store = FeedbackStore(data / "feedback.jsonl")
    store.append(feedback_record("down", "Which companies use Go?", ANSWER, record_id="a"))
    store.append(feedback_record("up", "What is Go?", ANSWER, record_id="b"))
    out = tmp_path / "review.jsonl"
    run = subprocess.run([sys.executable, "-m", "assistant", "eval", "--feedback", "--out", str(out), "--data", str(data)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "1 question from thumbs-down feedback written to" in run.stderr
    assert [json.loads(line)["q"] for line in out.read_text().splitlines()] == ["Which companies use Go?"]
    printed = subprocess.run([sys.executable, "-m", "assistant", "eval", "--feedback", "--data", str(data)],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0 and json.loads(printed.stdout)["id"] == "fb-a"
