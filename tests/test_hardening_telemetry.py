"""onnxruntime telemetry stays off (issue 16): a real index-and-ask run, with onnxruntime embedding
the questions (the default) and the int8 ONNX model indexing, writes no telemetry row. The run
gets its own HOME, so onnxruntime's events database for it is a fresh file under tmp_path."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_article

from assistant.settings import default_model_cache_dir

ROOT = Path(__file__).resolve().parent.parent


def events(home: Path) -> int:
    db = home / ".cache" / "Microsoft" / "DeveloperTools" / ".onnxruntime" / "onnxruntime.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        tables = {name for (name,) in conn.execute("select name from sqlite_master where type='table'")}
        return conn.execute("select count(*) from events").fetchone()[0] if "events" in tables else 0


def test_import_onnxruntime_sets_the_variable_onnxruntime_reads_before_importing(monkeypatch):
    from index import onnx_embedding

    monkeypatch.delenv("ORT_DISABLE_TELEMETRY", raising=False)
    onnx_embedding.import_onnxruntime()
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1"


@pytest.mark.slow
def test_index_and_ask_with_onnxruntime_write_no_telemetry_row(tmp_path):
    models = default_model_cache_dir()
    if not list((models / "onnx").glob("*/model-fp32.onnx")):
        pytest.skip("the ONNX models are not built yet (run `assistant index` once)")
    home = tmp_path / "home"
    home.mkdir()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_article(corpus, "go.md", "Go in 2026", "## Goroutines\n\nGoroutines are cheap threads that make concurrent Go servers simple.")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORT_", "ASSISTANT_"))}
    env.update(HOME=str(home), ASSISTANT_MODEL_CACHE=str(models), ASSISTANT_CORPUS=str(corpus), ASSISTANT_DATA=str(tmp_path / "data"))
    env.pop("XDG_CACHE_HOME", None)
    for args, extra in ((["index"], {"ASSISTANT_EMBED_BACKEND": "onnx"}), (["ask", "What are goroutines?"], {"ASSISTANT_EMBED_BACKEND": "onnx"})):
        done = subprocess.run(
            [sys.executable, "-m", "assistant", *args], env={**env, **extra}, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert "goroutines" in done.stdout.lower()  # answered: both runs embedded with onnxruntime
    assert events(home) == 0
