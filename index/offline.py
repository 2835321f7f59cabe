"""Keep every third-party library offline and quiet. Called by factories, never at import."""

from __future__ import annotations

import os

__all__ = ["OFFLINE_ENV", "ensure_offline"]

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime (also under chromadb): read at import, see index/onnx_embedding.py
    "TOKENIZERS_PARALLELISM": "false",
}


def ensure_offline() -> None:
    """Set the variables that stop model hubs, telemetry and analytics from reaching out."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
