"""Bad input: unusable article files are skipped with one warning line naming the file while
the rest is indexed; bad questions get a clear reply, never an exception, in the API, the CLI
and the UI handlers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.core import Assistant
from assistant.settings import Settings
from corpus.loaders import load_corpus

from conftest import FakeEmbedder, write_article


def make_pdf(lines: list[str]) -> bytes:
    """A minimal valid one-page PDF showing ``lines`` in Helvetica; no text when empty."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1") if lines else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_BOMB = "---\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh")
) + "title: Alias bomb\n---\n\nThe body of an article whose front matter is an alias bomb.\n"

# name -> (content, phrase the warning must contain); content None = built by the test
BAD_FILES: dict[str, tuple[bytes | None, str]] = {
    "empty.md": (b"", "empty file"),
    "whitespace.txt": (b"  \n\n\t \n", "empty file"),
    "binary.md": (b"\x00\x01\x02\xffPNG" * 200, "binary file"),
    "huge.txt": (b"word " * 5000, "byte limit"),
    "latin1.md": ("# Café\n\nUn café très noir, s'il vous plaît.".encode("latin-1"), "not UTF-8"),
    "bad-front-matter.md": (b"---\ntitle: [unclosed\n---\n\nBody text.\n", "invalid front matter"),
    "list-front-matter.md": (b"---\n- a\n- b\n---\n\nBody text.\n", "front matter is not a mapping"),
    "only-front-matter.md": (b"---\ntitle: Nothing else\n---\n", "no article text"),
    "only-headings.md": (b"---\ntitle: Headings\n---\n\n## Only a heading\n\n### And another\n", "no article text"),
    "menus.html": (b"<html><body><nav><a href='/'>Home</a><a>Blog</a></nav><div class='menu'><ul><li>About</li></ul></div><footer>(c) 2026</footer></body></html>", "no main text"),
    "scanned.pdf": (make_pdf([]), "no extractable text"),
    "not-a.pdf": (b"this is not a PDF", "not a PDF"),
    "damaged.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog", "unreadable PDF"),
    "zz-copy-of-go.md": (None, "same text as"),
    "outside-link.md": (None, "symlink points outside"),
    "outside-folder": (None, "symlink points outside"),
    "fifo.md": (None, "not a regular file"),
}


def _good_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_article(folder, "go.md", "Go in 2026", "## Concurrency\n\nGoroutines and channels make concurrent programs simple. Go powers tools at Google and Uber.\n\n## Deployment\n\nGo apps compile to a single binary, which keeps Docker images small.")
    write_article(folder, "rust.md", "Rust in 2026", "## Speed\n\nActix Web tops benchmarks, hitting 1 million requests per second.\n\n## Safety\n\nMemory safety means no crashes from leaks.")
    (folder / "kotlin.pdf").write_bytes(make_pdf(["Kotlin in 2026", "Ktor is a lightweight framework for Kotlin servers.", "It runs on coroutines."]))


def _add_bad(folder: Path, name: str, outside: Path) -> None:
    content, _ = BAD_FILES[name]
    if content is not None:
        (folder / name).write_bytes(content)
    elif name == "zz-copy-of-go.md":
        (folder / name).write_bytes((folder / "go.md").read_bytes())
    elif name == "outside-link.md":
        (outside / "secret.md").write_text("# Secret\n\nText from outside the corpus.\n")
        os.symlink(outside / "secret.md", folder / name)
    elif name == "outside-folder":
        (outside / "more.md").write_text("# More\n\nMore text from outside the corpus.\n")
        os.symlink(outside, folder / name, target_is_directory=True)
    elif name == "fifo.md":
        os.mkfifo(folder / name)


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_load_corpus_with_bad_file_warns_once_naming_it_and_loads_the_rest(tmp_path: Path, name: str):
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    outside.mkdir()
    _good_corpus(folder)
    _add_bad(folder, name, outside)
    loaded = load_corpus(folder, max_bytes=10_000)
    assert sorted(a.source for a in loaded.articles) == ["go.md", "kotlin.pdf", "rust.md"]
    assert len(loaded.warnings) == 1, loaded.warnings
    warning = loaded.warnings[0]
    assert warning.startswith(name) and BAD_FILES[name][1] in warning and "\n" not in warning


def test_load_corpus_with_pdf_text_reads_title_and_body(tmp_path: Path):
    folder = tmp_path / "corpus"
    _good_corpus(folder)
    kotlin = {a.source: a for a in load_corpus(folder).articles}["kotlin.pdf"]
    assert kotlin.title == "Kotlin in 2026" and "Ktor is a lightweight framework" in kotlin.text


def test_load_corpus_with_utf16_and_bom_files_reads_them(tmp_path: Path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "utf16.md").write_bytes("# Sixteen\n\nText saved as UTF-16 by an editor.".encode("utf-16"))
    (folder / "bom.md").write_bytes("\ufeff# Marked\n\nText saved with a byte order mark.".encode("utf-8"))
    loaded = load_corpus(folder)
    assert {a.title for a in loaded.articles} == {"Sixteen", "Marked"} and not loaded.warnings


def test_load_corpus_with_yaml_alias_bomb_finishes_quickly(tmp_path: Path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "bomb.md").write_text(_BOMB)
    loaded = load_corpus(folder)
    assert [a.title for a in loaded.articles] == ["Alias bomb"]


def test_load_corpus_with_weird_file_name_warning_stays_one_line(tmp_path: Path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "two\nlines.md").write_bytes(b"")
    loaded = load_corpus(folder)
    assert len(loaded.warnings) == 1 and "\n" not in loaded.warnings[0] and "empty file" in loaded.warnings[0]


def test_index_cli_with_every_bad_file_warns_per_file_and_indexes_the_rest(tmp_path: Path, capsys, real_embedder):
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    outside.mkdir()
    _good_corpus(folder)
    for name in BAD_FILES:
        _add_bad(folder, name, outside)
    (folder / "huge.txt").write_bytes(b"word " * (5 * 1024 * 1024))  # over the default 20 MB limit
    args = ["--corpus", str(folder), "--data", str(tmp_path / "data")]
    main(["index", *args])
    captured = capsys.readouterr()
    warnings = [ln for ln in captured.err.splitlines() if ln.startswith("warning: ")]
    assert len(warnings) == len(BAD_FILES), captured.err
    for name, (_, phrase) in BAD_FILES.items():
        assert any(w.startswith(f"warning: {name}") and phrase in w for w in warnings), name
    assert "Traceback" not in captured.err and "3 added" in captured.out
    main(["ask", *args, "What is Ktor?"])
    assert "kotlin.pdf" in capsys.readouterr().out


# -- questions ------------------------------------------------------------------------------------

QUESTIONS = {
    "empty": "",
    "whitespace": " \n\t  \r\n ",
    "100kb": "Go goroutines " * 7500,
    "punctuation": "?!?!... ,,, ;;; ---",
    "spanish": "¿Qué es el panel de administración de Django?",
    "russian": "Что такое горутины в Go?",
    "japanese": "Goのゴルーチンとは何ですか？",
    "arabic": "ما هو Rust؟",
    "control": "\x00\x07\x1b[31mWhat are goroutines?\x7f\x1b[0m\x08",
    "rtl_override": "\u202eWhat are goroutines?\u202c",
    "emoji": "🙂🚀🔥",
    "markers": "[1] [2] [99] what does [3] say?",
    "html": "<script>alert(1)</script> What is Actix?",
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, real_embedder):
    folder = tmp_path_factory.mktemp("q") / "corpus"
    _good_corpus(folder)
    settings = Settings(corpus_dir=folder, data_dir=folder.parent / "data")
    assistant = Assistant.from_settings(settings, embedder=real_embedder)
    assistant.index()
    return assistant


@pytest.mark.parametrize("kind", list(QUESTIONS))
def test_ask_api_with_bad_question_replies_clearly(indexed, kind: str):
    answer = indexed.ask(QUESTIONS[kind])
    assert answer.text.strip()
    assert not answer.refused or answer.reason
    json.dumps(answer.to_dict())
    if kind in ("empty", "whitespace", "punctuation", "emoji"):
        assert answer.refused
    if kind == "100kb":
        assert answer.refused and answer.reason == "question_too_long"


def test_ask_api_with_lone_surrogate_replies_clearly(indexed):
    answer = indexed.ask("What are goroutines?\ud800")
    assert answer.text.strip()
    json.dumps(answer.to_dict())


@pytest.mark.parametrize("kind", [k for k in QUESTIONS if "\x00" not in QUESTIONS[k]])
def test_ask_cli_with_bad_question_prints_answer_or_one_line_error(indexed, kind: str, capsys):
    s = indexed.settings
    args = ["ask", "--corpus", str(s.corpus_dir), "--data", str(s.data_dir), QUESTIONS[kind]]
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if code:
        assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    else:
        assert out.strip()
    if kind in ("empty", "whitespace", "100kb"):
        assert code == 1


@pytest.mark.parametrize("kind", list(QUESTIONS))
def test_ui_handlers_with_bad_question_never_raise(indexed, kind: str):
    from ui import handlers

    views = list(handlers.respond(indexed, QUESTIONS[kind], [], []))
    if views:
        final = views[-1]
        assert final.done and final.messages[-1]["role"] == "assistant" and final.messages[-1]["content"]
        assert "<script>" not in json.dumps(final.messages)
    else:
        assert not QUESTIONS[kind].strip()
    reply = handlers.ask_json(indexed, QUESTIONS[kind])
    assert reply["answer"].strip()
    json.dumps(reply)


def test_fake_embedder_index_of_bad_corpus_keeps_good_articles(tmp_path: Path):
    """The same through the API with the fake embedder: warnings come back on the report."""
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    outside.mkdir()
    _good_corpus(folder)
    for name in BAD_FILES:
        _add_bad(folder, name, outside)
    settings = Settings(corpus_dir=folder, data_dir=tmp_path / "data", max_file_bytes=10_000)
    report = Assistant.from_settings(settings, embedder=FakeEmbedder()).index()
    assert report.added == 3 and len(report.warnings) == len(BAD_FILES)
