"""The int8 ONNX embedder: built locally from the packaged model, close to the torch model."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.settings import Settings
from corpus.errors import AssistantError

pytestmark = pytest.mark.slow

TEXTS = [
    "Vitamin D supplements increase bone mineral density in elderly women.",
    "Go",
    "Actix Web tops benchmarks, hitting 1 million requests per second. " * 30,  # beyond 256 tokens
    "Django's admin panel lets you manage data without front-end work.",
]


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def onnx_embedder(model_cache):
    from assistant.factory import build_embedder

    return build_embedder(Settings(model_cache_dir=model_cache, embed_backend="onnx"))


def test_onnx_embedder_vectors_are_close_to_the_torch_model(onnx_embedder, real_embedder):
    onnx = np.asarray(onnx_embedder.embed_documents(TEXTS))
    torch = np.asarray(real_embedder.embed_documents(TEXTS))
    assert onnx.shape == torch.shape == (4, 384)
    cosines = (onnx * torch).sum(axis=1)
    assert cosines.min() > 0.97, cosines
    q = float(np.dot(onnx_embedder.embed_query("bone density"), real_embedder.embed_query("bone density")))
    assert q > 0.97


def test_onnx_embedder_keeps_input_order_and_unit_length(onnx_embedder):
    together = np.asarray(onnx_embedder.embed_documents(TEXTS))
    alone = np.asarray([onnx_embedder.embed_query(t) for t in TEXTS])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # int8 activations are quantised per batch, so padding moves vectors a little, never far
    similarity = together @ alone.T
    assert (np.diag(similarity) > 0.95).all(), np.diag(similarity)
    assert list(similarity.argmax(axis=1)) == [0, 1, 2, 3]  # order is the caller's


def test_onnx_build_second_call_reuses_the_cached_file(onnx_embedder, model_cache):
    from index.onnx_embedding import build_onnx_model

    path = build_onnx_model(model_cache / "onnx")
    before = path.stat().st_mtime_ns
    assert build_onnx_model(model_cache / "onnx") == path
    assert path.stat().st_mtime_ns == before
    assert not any(p.name.startswith(".build-") for p in path.parent.iterdir())


def test_onnx_embedder_has_its_own_model_id(onnx_embedder, real_embedder):
    # an index built by one backend is never silently read with the other's vectors
    assert onnx_embedder.model_id != (getattr(real_embedder, "model_id", None) or "all-MiniLM-L6-v2")


def test_settings_unknown_embed_backend_raises_assistant_error():
    with pytest.raises(AssistantError, match="embed_backend"):
        Settings(embed_backend="tensorflow").validated()
