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


def test_settings_unknown_query_backend_raises_assistant_error():
    with pytest.raises(AssistantError, match="query_backend"):
        Settings(query_backend="tensorflow").validated()


@pytest.fixture(scope="module")
def query_embedder(model_cache, real_embedder):
    from assistant.factory import build_query_embedder

    return build_query_embedder(Settings(model_cache_dir=model_cache), real_embedder)


def test_query_embedder_fp32_onnx_gives_the_torch_models_vectors(query_embedder, real_embedder):
    from index.embedding import QueryCache
    from index.onnx_embedding import OnnxEmbeddings

    assert isinstance(query_embedder, QueryCache) and isinstance(query_embedder.inner, OnnxEmbeddings)
    # the same vectors as the torch model, so it queries an index torch built (same model id)
    assert query_embedder.model_id == "all-MiniLM-L6-v2"
    onnx = np.asarray(query_embedder.embed_documents(TEXTS))
    torch = np.asarray(real_embedder.embed_documents(TEXTS))
    assert (onnx * torch).sum(axis=1).min() > 0.9999
    for text in ("bone density", "Which Rust framework hits a million requests per second?"):
        assert float(np.dot(query_embedder.embed_query(text), real_embedder.embed_query(text))) > 0.9999


def test_query_embedder_torch_setting_uses_the_bulk_embedder(real_embedder, model_cache):
    from assistant.factory import build_query_embedder

    assert build_query_embedder(Settings(model_cache_dir=model_cache, query_backend="torch"), real_embedder) is real_embedder
    # the int8 backend's vectors are its own: its queries must be embedded by it too
    assert build_query_embedder(Settings(model_cache_dir=model_cache, embed_backend="onnx"), real_embedder) is real_embedder


def test_answering_process_with_an_up_to_date_index_never_imports_torch(query_embedder, model_cache, tiny_corpus, tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "ASSISTANT_CORPUS": str(tiny_corpus), "ASSISTANT_DATA": str(tmp_path / "data"),
           "ASSISTANT_MODEL_CACHE": str(model_cache)}
    exe = [sys.executable, "-m", "assistant"]
    subprocess.run([*exe, "index"], env=env, check=True, capture_output=True, timeout=300)
    script = (
        "import json, sys\n"
        "from assistant.core import Assistant\n"
        "a = Assistant.from_settings()\n"
        "answer = a.ask('Which Rust framework hits a million requests per second?')\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'loaded': a.embedder.loaded,"
        " 'sources': [c.source for c in answer.citations], 'indexed': a.index().embedded}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["sources"] and result["sources"][0].endswith("rust.md"), result
    # answering and an unchanged re-index load no torch model: the fp32 ONNX export answers
    assert result == {**result, "torch": False, "loaded": False, "indexed": 0}


def test_bf16_embedder_vectors_match_fp32_within_cosine_0_997():
    from assistant.factory import build_embedder
    from index.embedding import Bf16Embeddings

    fp32 = build_embedder(Settings(embed_precision="fp32"))
    bf16 = Bf16Embeddings()
    a, b = np.asarray(fp32.embed_documents(TEXTS)), np.asarray(bf16.embed_documents(TEXTS))
    assert b.dtype == np.float64 and b.shape == (4, 384)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)  # renormalised in fp32
    assert (a * b).sum(axis=1).min() > 0.997
    q = np.asarray(bf16.embed_query("bone density"))
    assert float(q @ np.asarray(fp32.embed_query("bone density"))) > 0.997
    # the right neighbour stays first
    assert list((b @ a.T).argmax(axis=1)) == [0, 1, 2, 3]


def test_settings_unknown_embed_precision_raises_assistant_error():
    with pytest.raises(AssistantError, match="embed_precision"):
        Settings(embed_precision="fp8").validated()
