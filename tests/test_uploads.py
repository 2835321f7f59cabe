"""assistant.uploads: names, limits, no overwrite, nothing outside the corpus folder; then indexing."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.uploads import TextHashes, add_articles, read_upload, safe_name, save_article
from corpus.errors import ArticleError

ARTICLE = b"---\ntitle: Zig in 2026\n---\n\n## Speed\n\nZap, a Zig web framework, serves three million websocket connections on one box.\n"
OTHER = b"---\ntitle: Elm in 2026\n---\n\nElm compiles to JavaScript with no runtime exceptions.\n"


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["../../x.md", "../x.md", "a/b.md", "/etc/passwd.md", "..\\x.md", "C:\\x.md", "C:x.md", "..", ""])
def test_safe_name_with_folder_path_is_refused(name):
    with pytest.raises(ArticleError):
        safe_name(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.md", "notes.md"),
        ("My Notes (final).MD", "My-Notes-final.md"),
        (".hidden.md", "hidden.md"),
        ("...md.txt", "md.txt"),
        ("<script>.html", "script.html"),
        ("über café.md", "über-café.md"),
        ("$$$.md", "article.md"),
    ],
)
def test_safe_name_with_odd_characters_is_sanitised(name, expected):
    assert safe_name(name) == expected


def test_safe_name_with_unsupported_type_is_refused():
    with pytest.raises(ArticleError, match="unsupported file type .exe"):
        safe_name("tool.exe")


def test_save_article_with_traversal_name_writes_nothing(tmp_path):
    corpus = tmp_path / "a" / "b" / "corpus"
    corpus.mkdir(parents=True)
    outcome = save_article(ARTICLE, "../../x.md", corpus, 10_000)
    assert not outcome.ok and "folder path" in outcome.message
    assert files_in(tmp_path) == set()


def test_save_article_with_binary_content_is_refused(tmp_path):
    outcome = save_article(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" + bytes(range(256)), "photo.md", tmp_path, 10_000)
    assert not outcome.ok and "binary" in outcome.message and "refused" in outcome.message
    assert files_in(tmp_path) == set()


@pytest.mark.parametrize(
    ("data", "name", "fragment"),
    [
        (b"", "empty.md", "empty file"),
        (b"caf\xe9 latin-1 text", "latin.txt", "not UTF-8"),
        (b"<html><body><nav>Home</nav><script>x()</script></body></html>", "menu.html", "no main text"),
        (b"%PDF-1.4 broken", "broken.pdf", "PDF"),
        (b"not a pdf at all", "fake.pdf", "not a PDF"),
    ],
)
def test_save_article_with_unreadable_file_is_refused_with_reason(tmp_path, data, name, fragment):
    outcome = save_article(data, name, tmp_path, 10_000)
    assert not outcome.ok and fragment in outcome.message
    assert files_in(tmp_path) == set()


def test_save_article_over_size_limit_is_refused(tmp_path):
    outcome = save_article(ARTICLE, "big.md", tmp_path, max_bytes=20)
    assert not outcome.ok and "limit" in outcome.message
    assert files_in(tmp_path) == set()


def test_read_upload_over_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.md"
    path.write_bytes(b"x" * 101)
    with pytest.raises(ArticleError, match="over the 100-byte limit"):
        read_upload(path, 100)
    assert read_upload(path, 101) == b"x" * 101


def test_save_article_with_taken_name_keeps_both_files(tmp_path):
    (tmp_path / "notes.md").write_bytes(OTHER)
    outcome = save_article(ARTICLE, "notes.md", tmp_path, 10_000)
    assert outcome.saved_as == "notes-2.md" and "already exists" in outcome.message
    assert (tmp_path / "notes.md").read_bytes() == OTHER
    assert (tmp_path / "notes-2.md").read_bytes() == ARTICLE
    assert files_in(tmp_path) == {"notes.md", "notes-2.md"}  # no temporary file left behind


def test_save_article_with_known_text_is_not_added(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    hashes = TextHashes(corpus, tmp_path / "data" / "hashes.json", 10_000)
    first = save_article(ARTICLE, "zig.md", corpus, 10_000, hashes)
    again = save_article(ARTICLE, "zig-copy.md", corpus, 10_000, hashes)
    assert first.ok and not again.ok and "same text as zig.md" in again.message
    assert files_in(corpus) == {"zig.md"}


def test_save_article_through_symlinked_name_does_not_follow_it(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    (corpus / "zig.md").symlink_to(outside / "target.md")  # dangling link inside the corpus
    outcome = save_article(ARTICLE, "zig.md", corpus, 10_000)
    assert outcome.saved_as == "zig-2.md"
    assert not (outside / "target.md").exists()


def test_add_articles_indexes_saved_files_and_reports_refused(tiny_corpus, settings_for, fake_embedder):
    from assistant.core import Assistant

    assistant = Assistant.from_settings(settings_for(tiny_corpus, min_relevance=0.0), embedder=fake_embedder)
    assistant.index()
    before = assistant.status()["chunks"]
    steps: list[tuple[float, str]] = []
    report = add_articles(
        assistant,
        [("zig.md", ARTICLE), ("../../evil.md", OTHER), ("photo.md", b"\x00\x01\x02binary")],
        progress=lambda fraction, text: steps.append((fraction, text)),
    )
    assert report.saved == ("zig.md",)
    assert [o.name for o in report.refused] == ["../../evil.md", "photo.md"]
    assert report.index is not None and report.index.added == 1 and report.error is None
    assert assistant.status()["chunks"] > before
    assert steps[-1] == (1.0, "Done") and all(0.0 <= f <= 1.0 for f, _ in steps)
    assert any(source == "zig.md" for source, _ in assistant.articles())
    assert (tiny_corpus / "zig.md").read_bytes() == ARTICLE
    assert not (tiny_corpus.parent.parent / "evil.md").exists()


def test_add_articles_with_only_refused_files_does_not_index(tiny_corpus, settings_for, fake_embedder):
    from assistant.core import Assistant

    assistant = Assistant.from_settings(settings_for(tiny_corpus, min_relevance=0.0), embedder=fake_embedder)
    assistant.index()
    calls = len(fake_embedder.calls)
    report = add_articles(assistant, [("photo.md", b"\x00binary")])
    assert report.saved == () and report.index is None
    assert len(fake_embedder.calls) == calls
    answer = assistant.ask("Which Rust framework hits a million requests per second?")
    assert answer.citations and answer.citations[0].source == "rust.md"
