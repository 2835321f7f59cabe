"""The packaged all-MiniLM-L6-v2 as ONNX with dynamic int8 quantisation, run by onnxruntime.

Built locally at first use (nothing is downloaded): the packaged model's transformer is
exported with ``torch.onnx.export(..., dynamo=False)`` and its weights quantised by
``onnxruntime.quantization.quantize_dynamic(per_channel=True)`` (per-tensor int8 drifts too far
from fp32). The result is cached in ``cache_dir`` under a digest of the model's files, written
atomically. Inference uses the model's own ``tokenizer.json`` (``tokenizers``), mean pooling
over the attention mask and L2 normalisation — what sentence-transformers does — so vectors
stay within cosine ≈ 0.99 of the torch model's. Reading needs neither torch nor transformers.

onnxruntime (1.29+) records telemetry events ("ProcessInfo": device id, OS, CPU, interpreter
path) in ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db`` as it creates its
environment, which happens at import — before ``disable_telemetry_events()`` can run. So every
import here goes through ``import_onnxruntime``: ``ORT_DISABLE_TELEMETRY=1`` first (the variable
1.32 reads; ``ORT_TELEMETRY_DISABLED`` still logs ProcessInfo), then the API switch as well.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["OnnxEmbeddings", "build_onnx_model", "onnx_model_path", "import_onnxruntime", "ONNX_MODEL_ID", "PRECISIONS"]

ONNX_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
TELEMETRY_OFF_ENV = {"ORT_DISABLE_TELEMETRY": "1"}


def import_onnxruntime() -> Any:
    """``onnxruntime`` with its telemetry off (see the module docstring)."""
    os.environ.update(TELEMETRY_OFF_ENV)
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    return onnxruntime
_FILES = ("config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json")


def _digest(model_dir: Path) -> str:
    h = hashlib.sha256()
    for name in _FILES:
        path = model_dir / name
        if path.exists():
            h.update(name.encode())
            h.update(str(path.stat().st_size).encode())
            with open(path, "rb") as fh:
                h.update(fh.read(1 << 20))  # the head and the size identify the file well enough
    return h.hexdigest()[:16]


PRECISIONS = ("int8", "fp32")


def onnx_model_path(cache_dir: str | os.PathLike[str], model_dir: str | os.PathLike[str] | None = None, precision: str = "int8") -> Path:
    """Where the ONNX model of ``model_dir`` in ``precision`` lives in ``cache_dir`` (built or not)."""
    from index.embedding import packaged_model_path

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}. Currently, it is {precision!r}")
    model_dir = Path(model_dir or packaged_model_path())
    return Path(cache_dir) / f"minilm-{_digest(model_dir)}" / f"model-{precision}.onnx"


def build_onnx_model(cache_dir: str | os.PathLike[str], model_dir: str | os.PathLike[str] | None = None, precision: str = "int8") -> Path:
    """Path of the ONNX model of ``model_dir`` (the packaged model by default) in ``precision``
    (``int8``: quantised, for bulk indexing; ``fp32``: the torch model's vectors, for queries),
    building both into ``cache_dir`` first if it is not there yet (about a minute, once)."""
    from index.embedding import packaged_model_path

    model_dir = Path(model_dir or packaged_model_path())
    target = onnx_model_path(cache_dir, model_dir, precision)
    if target.exists():
        return target
    with warnings.catch_warnings():
        _build(model_dir, target.parent)
    return target


def _build(model_dir: Path, target_dir: Path) -> None:
    from index.offline import ensure_offline

    ensure_offline()
    import_onnxruntime()
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    target_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target_dir))
    root = logging.getLogger()
    level = root.level
    try:
        warnings.simplefilter("ignore")  # the tracer's and the quantiser's advice, not errors
        root.setLevel(logging.ERROR)
        bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
        bert.eval()

        class _Hidden(torch.nn.Module):  # keyword call: forward's positional order varies by version
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
                return out.last_hidden_state

        model = _Hidden().eval()
        ids = torch.ones((2, 16), dtype=torch.long)
        fp32 = work / "model.onnx"
        axes = {0: "batch", 1: "tokens"}
        with torch.no_grad():
            torch.onnx.export(
                model,
                (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
                opset_version=17,
                dynamo=False,
            )
        int8 = work / "model-int8.onnx"
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        # atomic: a reader sees the whole file or none
        os.replace(int8, target_dir / "model-int8.onnx")
        os.replace(fp32, target_dir / "model-fp32.onnx")
    finally:
        root.setLevel(level)
        shutil.rmtree(work, ignore_errors=True)


class OnnxEmbeddings:
    """LangChain-style ``Embeddings`` over an ONNX export of the model (normalised vectors).

    ``model_id`` names the vectors it makes: the int8 model's are its own (an index built with
    it is not mixed with the torch model's); the fp32 model's are the torch model's (cosine
    ≥ 0.9999), so it can embed queries against an index the torch model built."""

    model_id = ONNX_MODEL_ID

    def __init__(self, onnx_path: str | os.PathLike[str], model_dir: str | os.PathLike[str] | None = None,
                 batch_size: int = 32, max_tokens: int = 256, threads: int | None = None, model_id: str | None = None):
        from tokenizers import Tokenizer

        from index.embedding import packaged_model_path

        ort = import_onnxruntime()
        model_dir = Path(model_dir or packaged_model_path())
        self.batch_size = batch_size
        if model_id:
            self.model_id = model_id
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}

    def _encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts`` as one float32 array, in order; batches sorted by length."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            vecs = self._encode([texts[i] for i in idx])
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0].tolist()
