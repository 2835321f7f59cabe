"""One ``Settings`` object, built at the entry point and passed down.

The environment is read here and nowhere else (``Settings.from_env``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from corpus.errors import AssistantError

__all__ = ["Settings", "default_corpus_dir", "default_data_dir", "default_model_cache_dir"]


def default_corpus_dir() -> Path:
    """The sample articles shipped in the repository: ``corpus/articles``."""
    import corpus

    return Path(corpus.__file__).resolve().parent / "articles"


def default_data_dir() -> Path:
    """Outside the code: ``$XDG_DATA_HOME/article-assistant`` or ``~/.local/share/...``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "article-assistant"


def default_model_cache_dir() -> Path:
    """Assembled LLM model files: ``$XDG_CACHE_HOME/article-assistant/models`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "article-assistant" / "models"


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(default_factory=default_corpus_dir)
    data_dir: Path = field(default_factory=default_data_dir)
    chroma_url: str | None = None
    chroma_token: str | None = field(default=None, repr=False)
    chroma_ca: str | None = None  # CA bundle for an https server with a private certificate
    collection: str = "articles"
    # chunking
    chunk_max_chars: int = 800
    chunk_overlap_chars: int = 200
    max_file_bytes: int = 20 * 1024 * 1024
    # article knowledge at index time (key points and named things, for questions about the
    # whole collection); eval --beir turns it off: retrieval never reads it
    knowledge: bool = True
    # retrieval: reciprocal rank fusion of the dense and BM25 candidates with equal weights and
    # the textbook k=60 (no fitted weight); each side's first result keeps a slot in the top k,
    # and a side's first result scoring at least lead_ratio times its runner-up goes first
    # (docs/retrieval.md has the measurements)
    k: int = 5
    candidates: int = 30
    dense_weight: float = 0.5
    rrf_k: int = 60
    fusion: str = "rrf"
    lead_ratio: float = 2.0
    # answers
    engine: str = "extractive"
    # LLM engines: "local" (llama.cpp) and "openai" (any OpenAI-compatible server)
    llm_base_url: str | None = None
    llm_model: str = "qwen2.5-coder-1.5b-instruct"
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 120.0
    llm_max_tokens: int = 220
    llm_passages: int = 3
    llm_threads: int | None = None
    llm_context: int = 4096
    model_cache_dir: Path = field(default_factory=default_model_cache_dir)
    # refusals: the evidence gate (assistant/evidence.py) decides; min_relevance is a floor on
    # the best cosine below which a question is refused whatever the gate says
    answer_gate: bool = True
    min_relevance: float = 0.2
    max_question_chars: int = 2000
    answer_sentences: int = 4
    answer_max_chars: int = 700
    embed_batch_size: int = 32
    embed_backend: str = "torch"  # "torch" (sentence-transformers) or "onnx" (int8, built at first use)
    # what embeds questions and answer sentences when embed_backend is torch: "onnx" (an fp32
    # ONNX export of the same model: the same vectors, a few ms per question, and no torch in a
    # process that only answers) or "torch"
    query_backend: str = "onnx"
    # bulk torch encoding: "bf16" weights (~1.9x fp32 here; vectors within cosine 0.9999 of
    # fp32's), "fp32", or "auto": bf16 where the CPU multiplies bf16 natively (AVX-512 BF16 /
    # AMX; emulated bf16 elsewhere would be slower), else fp32
    embed_precision: str = "auto"
    # ui
    host: str = "127.0.0.1"
    port: int = 7860
    auth: tuple[str, str] | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``ASSISTANT_*`` variables, then explicit overrides (None = unset)."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        mapping = {
            "ASSISTANT_CORPUS": ("corpus_dir", Path),
            "ASSISTANT_DATA": ("data_dir", Path),
            "ASSISTANT_CHROMA_URL": ("chroma_url", str),
            "ASSISTANT_CHROMA_TOKEN": ("chroma_token", str),
            "ASSISTANT_CHROMA_CA": ("chroma_ca", str),
            "ASSISTANT_EMBED_BACKEND": ("embed_backend", str),
            "ASSISTANT_QUERY_BACKEND": ("query_backend", str),
            "ASSISTANT_EMBED_PRECISION": ("embed_precision", str),
            "ASSISTANT_COLLECTION": ("collection", str),
            "ASSISTANT_ENGINE": ("engine", str),
            "ASSISTANT_LLM_BASE_URL": ("llm_base_url", str),
            "ASSISTANT_LLM_MODEL": ("llm_model", str),
            "ASSISTANT_LLM_API_KEY": ("llm_api_key", str),
            "ASSISTANT_LLM_TIMEOUT": ("llm_timeout", float),
            "ASSISTANT_LLM_MAX_TOKENS": ("llm_max_tokens", int),
            "ASSISTANT_LLM_THREADS": ("llm_threads", int),
            "ASSISTANT_MODEL_CACHE": ("model_cache_dir", Path),
            "ASSISTANT_K": ("k", int),
            "ASSISTANT_HOST": ("host", str),
            "ASSISTANT_PORT": ("port", int),
        }
        for var, (name, kind) in mapping.items():
            raw = env.get(var)
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise AssistantError(f"{var}={raw!r} is not a valid {kind.__name__}") from None
        user, password = env.get("ASSISTANT_AUTH_USER"), env.get("ASSISTANT_AUTH_PASSWORD")
        if user and password:
            values["auth"] = (user, password)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "data_dir", "model_cache_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser()
        return cls(**values).validated()

    def validated(self) -> Settings:
        if self.k < 1:
            raise AssistantError(f"k must be at least 1. Currently, k is {self.k}")
        if self.embed_backend not in ("torch", "onnx"):
            raise AssistantError(f"embed_backend must be 'torch' or 'onnx'. Currently, it is {self.embed_backend!r}")
        if self.embed_precision not in ("auto", "fp32", "bf16"):
            raise AssistantError(f"embed_precision must be 'auto', 'fp32' or 'bf16'. Currently, it is {self.embed_precision!r}")
        if self.query_backend not in ("torch", "onnx"):
            raise AssistantError(f"query_backend must be 'torch' or 'onnx'. Currently, it is {self.query_backend!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise AssistantError(f"dense_weight must be between 0 and 1. Currently, it is {self.dense_weight}")
        if self.fusion not in ("rrf", "convex"):
            raise AssistantError(f"fusion must be 'rrf' or 'convex'. Currently, it is {self.fusion!r}")
        if not self.lead_ratio >= 1.0:
            raise AssistantError(f"lead_ratio must be at least 1. Currently, it is {self.lead_ratio}")
        if self.rrf_k < 0:
            raise AssistantError(f"rrf_k must be non-negative. Currently, it is {self.rrf_k}")
        if self.candidates < self.k:
            return replace(self, candidates=self.k)
        return self

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None}).validated()

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_path(self) -> Path:
        return self.data_dir / "keyword" / self.collection

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "index.lock"
