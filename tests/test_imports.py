"""Importing the packages does no IO and loads no model; imports never go backwards."""

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LAYERS = ["corpus", "index", "assistant", "ui"]


def test_import_packages_loads_no_model_and_opens_no_file():
    code = r"""
import builtins, io, os, sys
opened = []
real_open = builtins.open
def spy(file, *a, **k):
    opened.append(str(file)); return real_open(file, *a, **k)
builtins.open = spy
io.open = spy
import assistant, corpus, index, ui, assistant.cli, ui.app, index.store, index.indexer, corpus.loaders
heavy = [m for m in ("torch", "sentence_transformers", "chromadb", "gradio", "transformers") if m in sys.modules]
mine = [f for f in opened if not f.endswith((".py", ".pyc", ".pth", ".so", ".json", ".typed")) and "site-packages" not in f and "python3" not in f]
print(heavy, mine)
assert not heavy, heavy
assert not mine, mine
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_never_go_backwards():
    bad = []
    for i, layer in enumerate(LAYERS):
        later = set(LAYERS[i + 1 :])
        for path in (REPO / layer).rglob("*.py"):
            wrong = _imports(path) & later
            if wrong:
                bad.append(f"{path.relative_to(REPO)} imports {sorted(wrong)}")
    assert not bad, bad


def test_exported_members_match_all():
    import assistant

    assert sorted(assistant.__all__) == sorted(n for n in dir(assistant) if not n.startswith("_") and n not in {"core", "models", "settings", "conversation", "fusion", "retrieval", "extractive", "factory", "citations", "evaluation", "langchain_retriever", "cli", "uploads", "llm", "beir", "bench"} and not isinstance(getattr(assistant, n), type(assistant)))
