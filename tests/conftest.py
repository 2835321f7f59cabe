"""Shared fixtures: a deterministic fake embedder for unit isolation, the real packaged model
for integration tests (loaded once per session), and temporary corpus/data folders."""

from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

import pytest

from index.offline import OFFLINE_ENV

for _k, _v in OFFLINE_ENV.items():
    os.environ.setdefault(_k, _v)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"
CORPUS = REPO / "corpus" / "articles"


class FakeEmbedder:
    """Deterministic sha256-seeded bag-of-words embedder: same words, similar vectors."""

    dimension = 64
    model_id = "fake-sha256"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.sha256(word.encode()).digest()
            for i in range(4):
                idx = digest[i] % self.dimension
                v[idx] += 1.0 if digest[i + 4] % 2 else -1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)

    @property
    def embedded(self) -> int:
        return sum(self.calls)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session", autouse=True)
def close_llm_models():
    """Free the llama.cpp models the tests loaded before the interpreter shuts down (left to
    ``Llama.__del__`` then, they print ``Exception ignored ... 'NoneType' object is not callable``)."""
    yield
    import sys

    backends = sys.modules.get("assistant.llm.backends")
    if backends is not None:
        backends.close_all()


@pytest.fixture(scope="session")
def real_embedder():
    from assistant.factory import build_embedder
    from assistant.settings import Settings

    return build_embedder(Settings())


def write_article(folder: Path, name: str, title: str, body: str, **meta: str) -> Path:
    lines = ["---", f'title: "{title}"'] + [f'{k}: "{v}"' for k, v in meta.items()] + ["---", "", body.strip(), ""]
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_article(folder, "go.md", "Go in 2026", "## Concurrency\n\nGoroutines and channels make concurrent programs simple. Go powers tools at Google and Uber.\n\n## Deployment\n\nGo apps compile to a single binary, which keeps Docker images small.")
    write_article(folder, "rust.md", "Rust in 2026", "## Speed\n\nActix Web tops benchmarks, hitting 1 million requests per second. Rocket offers clean syntax.\n\n## Safety\n\nMemory safety means no crashes from leaks.")
    write_article(folder, "python.md", "Python in 2026", "## FastAPI\n\nFastAPI runs async out of the box. Real-world wins include data science backends at Netflix.\n\n## Django\n\nDjango's admin panel lets you manage data without front-end work.")
    return folder


@pytest.fixture
def settings_for(tmp_path: Path):
    from assistant.settings import Settings

    def make(corpus: Path, **kw):
        return Settings(corpus_dir=corpus, data_dir=tmp_path / "data", **kw)

    return make


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_process(cmd: list[str], ready_url: str, log_path: Path, name: str, timeout: float = 90):
    """Start ``cmd`` (output to ``log_path``), wait until ``ready_url`` answers 200, yield the
    process, and stop it by PID afterwards. Use with ``yield from`` inside a fixture."""
    import subprocess

    from benchmarks.processes import stop, wait_for_http

    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(ready_url, proc, timeout, lambda why: RuntimeError(
            f"{name} did not start ({why}): {log_path.read_text(errors='replace')[-2000:]}"))
        yield proc
    finally:
        stop(proc)
        log.close()
