"""Chat models behind one small protocol: ``stream(messages, max_tokens)`` yields text pieces.

- ``LlamaCppChat``: the packaged GGUF model in this process, through ``llama-cpp-python``.
- ``OpenAICompatibleChat``: any OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server,
  OpenAI) through LangChain's ``ChatOpenAI``.

Both are cheap to construct; the model or client is built on first use (``warm_up``) and let
go by ``close()``. Loaded llama.cpp models are shared per process and all closed at interpreter
exit (``close_all``, registered with ``atexit``): left to ``Llama.__del__`` during shutdown they
print ``Exception ignored in: <function Llama.__del__>``. Every failure surfaces as
``EngineError`` (the engine turns it into an extractive fallback).
Decoding is greedy (temperature 0) so answers are repeatable.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from corpus.errors import EngineError

__all__ = ["ChatModel", "LlamaCppChat", "OpenAICompatibleChat", "close_all"]

Messages = list[dict[str, str]]


@runtime_checkable
class ChatModel(Protocol):
    """What the LLM engine needs from a chat model."""

    name: str

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]: ...


_LLAMAS: dict[tuple[str, int, int], Any] = {}
_LLAMA_LOCK = threading.Lock()
_AT_EXIT: list[bool] = []


def _close(llama: Any) -> None:
    close = getattr(llama, "close", None)  # llama-cpp-python >= 0.2.72
    if close is not None:
        close()


def close_all() -> None:
    """Free every llama.cpp model this process loaded (also run at interpreter exit)."""
    with _LLAMA_LOCK:
        loaded = list(_LLAMAS.values())
        _LLAMAS.clear()
    for llama, lock, _ in loaded:
        with lock:  # never under a running generation
            _close(llama)


class _Prefixes:
    """What a loaded model had evaluated under each system prompt, kept when another one comes.

    llama.cpp keeps one sequence in its KV cache and re-evaluates a prompt only from where it
    differs from the last one, so the fixed answer system prompt costs nothing — until a
    follow-up's rewrite (``CONDENSE_SYSTEM``) or an overview (``OVERVIEW_SYSTEM``) replaces it and
    the next answer evaluates its ~170 tokens again (~2.8 s on 2 cores). On a switch of system
    prompt the sequence evaluated so far is copied out (``llama_state_seq_get_data``: ~28 KB a
    token for this model) and the one kept for the incoming system prompt, if any, is put back;
    the generation then re-evaluates only past the common prefix, as usual (like any prefix reuse,
    this may change the last float bits, and rarely a greedy word)."""

    def __init__(self, keep: int = 4):
        self.keep = keep
        self.system: str | None = None  # the system prompt of what the context holds
        self.saved: dict[str, tuple[Any, bytes]] = {}  # system prompt -> (token ids, sequence state)

    def switch(self, llama: Any, system: str) -> None:
        if system == self.system:
            return
        import llama_cpp

        if self.system is not None and llama.n_tokens > 0:
            ctx = llama._ctx.ctx
            size = llama_cpp.llama_state_seq_get_size(ctx, 0)
            buf = (llama_cpp.ctypes.c_uint8 * size)()
            got = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
            if got:
                self.saved.pop(self.system, None)
                self.saved[self.system] = (llama.input_ids[: llama.n_tokens].copy(), llama_cpp.ctypes.string_at(buf, got))
                while len(self.saved) > self.keep:
                    self.saved.pop(next(iter(self.saved)))
        self.system = system
        kept = self.saved.get(system)
        if kept is None:
            return
        ids, data = kept
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        src = (llama_cpp.ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, src, len(data), 0) != len(data):
            llama._ctx.kv_cache_seq_rm(-1, 0, -1)  # not restored: the prompt is evaluated from the start
            llama.n_tokens = 0
            return
        llama.input_ids[: len(ids)] = ids
        llama.n_tokens = len(ids)
        llama._requires_eval = True


class LlamaCppChat:
    """The local GGUF model (assembled into ``cache_dir`` on first use), one per process."""

    def __init__(self, cache_dir: Path, n_ctx: int = 4096, n_threads: int | None = None, model_path: Path | None = None):
        self.cache_dir = Path(cache_dir)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.model_path = model_path
        self.name = "local"
        self._llama: Any = None
        self._key: tuple[str, int, int] | None = None

    def warm_up(self) -> None:
        if self._llama is not None and _LLAMAS.get(self._key) is self._llama:  # type: ignore[arg-type]
            return
        try:
            from llama_cpp import Llama
        except ImportError:
            from assistant.llm.model_files import INSTALL_HINT

            raise EngineError(f"llama-cpp-python is not installed; {INSTALL_HINT}") from None
        from assistant.llm.model_files import ensure_model

        path = self.model_path or ensure_model(self.cache_dir)
        key = (str(path), self.n_ctx, self.n_threads)
        with _LLAMA_LOCK:
            if key not in _LLAMAS:
                try:
                    _LLAMAS[key] = (Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.n_threads, seed=0, verbose=False),
                                    threading.Lock(), _Prefixes())
                except (ValueError, RuntimeError, OSError) as exc:
                    raise EngineError(f"cannot load the local model {path}: {exc}") from None
                if not _AT_EXIT:
                    atexit.register(close_all)
                    _AT_EXIT.append(True)
            self._llama, self._key = _LLAMAS[key], key

    def close(self) -> None:
        """Free the loaded model (shared by every ``LlamaCppChat`` of the same file, context and
        threads: they load it again on their next use). Safe to call twice or before any use."""
        if self._llama is None:
            return
        with _LLAMA_LOCK:
            shared = _LLAMAS.get(self._key) is self._llama  # type: ignore[arg-type]
            if shared:
                del _LLAMAS[self._key]  # type: ignore[arg-type]
        llama, lock, _ = self._llama
        self._llama = self._key = None
        if shared:
            with lock:
                _close(llama)

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        self.warm_up()
        llama, lock, prefixes = self._llama
        with lock:  # one generation at a time per loaded model
            try:
                prefixes.switch(llama, messages[0]["content"] if messages and messages[0].get("role") == "system" else "")
                chunks = llama.create_chat_completion(messages=messages, stream=True, temperature=0.0, max_tokens=max_tokens, seed=0)
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            except Exception as exc:  # llama.cpp errors of every kind: the model failed
                raise EngineError(f"the local model failed ({exc.__class__.__name__}: {str(exc)[:200]})") from None


class OpenAICompatibleChat:
    """An OpenAI-compatible chat endpoint via ``langchain_openai.ChatOpenAI`` (no retries)."""

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, timeout: float = 120.0):
        self.model = model
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout
        self.name = "openai"
        self._client: Any = None

    def warm_up(self) -> None:
        if self._client is not None:
            return
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            from assistant.llm.model_files import INSTALL_HINT

            raise EngineError(f"langchain-openai is not installed; {INSTALL_HINT}") from None
        self._client = ChatOpenAI(
            model=self.model,
            base_url=self.base_url,
            api_key=self.api_key or "not-needed",  # local servers ignore it; ChatOpenAI wants one
            timeout=self.timeout,
            max_retries=0,
            temperature=0.0,
            seed=0,
        )

    def close(self) -> None:
        """Let go of the client and its HTTP connections; the next use builds a new one."""
        client, self._client = self._client, None
        root = getattr(client, "root_client", None)
        if root is not None and hasattr(root, "close"):
            root.close()

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        self.warm_up()
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        lc_messages = [kinds[m["role"]](content=m["content"]) for m in messages]
        try:
            for chunk in self._client.stream(lc_messages, max_tokens=max_tokens):
                piece = chunk.content if isinstance(chunk.content, str) else "".join(
                    part.get("text", "") for part in chunk.content if isinstance(part, dict)
                )
                if piece:
                    yield piece
        except Exception as exc:  # openai/httpx errors of every kind: the endpoint failed
            where = self.base_url or "the OpenAI API"
            raise EngineError(f"{where} failed ({exc.__class__.__name__}: {str(exc)[:200]})") from None
