"""The local llama.cpp model is freed explicitly (``close``/``close_all``), so a process that
used it exits without ``Exception ignored in: <function Llama.__del__>``."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from assistant.llm import backends
from assistant.llm.backends import LlamaCppChat, close_all


class _FakeLlama:
    loaded = 0

    def __init__(self, **kwargs):
        type(self).loaded += 1
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture
def fake_llama(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=_FakeLlama))
    monkeypatch.setattr(backends, "_LLAMAS", {})
    _FakeLlama.loaded = 0
    model = tmp_path / "model.gguf"
    model.write_bytes(b"")
    return model


def test_close_frees_the_shared_model_and_the_next_use_loads_it_again(fake_llama):
    a, b = LlamaCppChat(fake_llama.parent, model_path=fake_llama), LlamaCppChat(fake_llama.parent, model_path=fake_llama)
    a.warm_up()
    b.warm_up()
    first = a._llama[0]
    assert _FakeLlama.loaded == 1 and b._llama[0] is first  # one model per process
    a.close()
    a.close()  # twice is fine
    assert first.closed and backends._LLAMAS == {}
    b.warm_up()  # b's model was closed under it: loaded again, not used closed
    assert _FakeLlama.loaded == 2 and not b._llama[0].closed


def test_close_all_closes_every_loaded_model(fake_llama):
    chat = LlamaCppChat(fake_llama.parent, model_path=fake_llama)
    chat.warm_up()
    model = chat._llama[0]
    close_all()
    assert model.closed and backends._LLAMAS == {}
    LlamaCppChat(fake_llama.parent).close()  # never used: nothing to free


@pytest.mark.slow
def test_the_real_model_is_freed_by_close_all_and_its_process_exits_cleanly():
    """After ``close_all`` the Llama object holds nothing to free, so whenever ``__del__`` runs
    (at shutdown, with llama_cpp's functions possibly gone) it calls nothing."""
    pytest.importorskip("llama_cpp")
    code = (
        "from assistant.llm import backends\n"
        "from assistant.settings import default_model_cache_dir\n"
        "chat = backends.LlamaCppChat(default_model_cache_dir(), n_ctx=512, n_threads=2)\n"
        "print(''.join(chat.stream([{'role': 'user', 'content': 'Say hi.'}], max_tokens=2)))\n"
        "llama = chat._llama[0]\n"
        "before = len(llama._stack._exit_callbacks)\n"
        "backends.close_all()\n"
        "print('callbacks', before, len(llama._stack._exit_callbacks))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    before, after = map(int, out.stdout.split("callbacks")[-1].split())
    assert before > 0 and after == 0  # loaded with resources; all freed
    assert "Exception ignored" not in out.stderr and "Traceback" not in out.stderr, out.stderr[-2000:]
