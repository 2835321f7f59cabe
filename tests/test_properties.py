"""Property-based tests (hypothesis): arbitrary text never crashes the cleaner, the chunker or
the citation parser, and chunk spans always map back to the article text."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.citations import CITATION, attach_citation, cited_numbers, drop_invalid_citations
from corpus.chunking import blocks, chunk_article
from corpus.clean import clean_plain_text, is_clutter, looks_like_heading, normalize
from corpus.models import Article
from corpus.text import sentence_spans

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# text that looks like articles: words, sentence ends, headings, bullets, blank lines, markers,
# plus anything unicode can throw (control characters, combining marks, other scripts)
_PIECES = st.sampled_from(
    ["Go", "is", "fast", "Rust", "e.g.", "Dr.", "1.", "2026", "##", "#", "- ", "• ", "* ", "[1]", "[12]", "[x]",
     ".", "!", "?", ":", "”", '"', "’", "(", ")", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\u00a0", "\u200b",
     "\u2028", "\x0b", "\x0c", "\x1c", "\x00", "\x07", "\x1b[31m", "é", "e\u0301", "日本語", "Привет", "مرحبا", "🙂",
     "Related Articles", "Share", "Contact us", "Subscribe", "info@example.com", "+1 (555) 123-4567"]
)
_ARTICLEISH = st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=120).map("".join)
_ANY_TEXT = st.one_of(st.text(max_size=2000), _ARTICLEISH)


def _no_controls(text: str) -> bool:
    return all(ch in "\n\t" or unicodedata.category(ch)[0] != "C" for ch in text)


@FAST
@given(_ANY_TEXT)
def test_normalize_any_text_is_idempotent_and_control_free(raw: str):
    once = normalize(raw)
    assert normalize(once) == once
    assert "\r" not in once and _no_controls(once)


@FAST
@given(_ANY_TEXT, st.one_of(st.none(), st.text(max_size=40)))
def test_clean_plain_text_any_text_keeps_wording_and_shape(raw: str, title: str | None):
    body, found = clean_plain_text(raw, title)
    assert isinstance(body, str) and body.endswith("\n")
    assert "\n\n\n" not in body and _no_controls(body)
    assert found is None or isinstance(found, str)
    source = normalize(raw)
    for line in body.split("\n"):
        words = line.strip()
        if words.startswith("## "):
            words = words[3:]
        elif words.startswith("- "):
            words = words[2:]
        # sentences are never rewritten: every kept line is text of the input
        assert words.strip() in source


@FAST
@given(_ANY_TEXT, st.one_of(st.none(), _ANY_TEXT))
def test_clean_predicates_any_line_never_crash(line: str, nxt: str | None):
    assert isinstance(is_clutter(line), bool)
    assert isinstance(looks_like_heading(line, nxt), bool)


@FAST
@given(_ANY_TEXT)
def test_sentence_spans_any_text_are_ordered_stripped_slices(text: str):
    last = 0
    for a, b in sentence_spans(text):
        assert last <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        last = b


@FAST
@given(_ANY_TEXT, st.integers(min_value=50, max_value=400), st.integers(min_value=0, max_value=200))
def test_chunk_article_any_text_spans_map_back(text: str, max_chars: int, overlap: int):
    article = Article(source="a/b.md", title="T", text=text)
    chunks = chunk_article(article, max_chars=max_chars, overlap_chars=overlap)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        assert article.text[c.start : c.end] == c.text
        assert c.text and c.text == c.text.strip()
        assert c.end - c.start <= max_chars
        assert c.source == "a/b.md" and c.article_hash == article.hash
    # every paragraph character is covered by some chunk: nothing of the article is lost
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for block in blocks(text):
        for i in range(block.start, block.end):
            assert i in covered or text[i].isspace()
    # deterministic: the same article always gives the same chunks
    assert chunk_article(article, max_chars=max_chars, overlap_chars=overlap) == chunks


@FAST
@given(_ANY_TEXT)
def test_cited_numbers_any_text_are_distinct_markers_in_order(text: str):
    numbers = cited_numbers(text)
    assert len(numbers) == len(set(numbers))
    expected: list[int] = []
    for m in CITATION.finditer(text):
        if int(m.group(1)) not in expected:
            expected.append(int(m.group(1)))
    assert numbers == expected


@FAST
@given(_ANY_TEXT, st.sets(st.integers(min_value=0, max_value=20), max_size=6))
def test_drop_invalid_citations_any_text_keeps_only_valid(text: str, valid: set[int]):
    out = drop_invalid_citations(text, valid)
    assert set(cited_numbers(out)) <= valid
    kept = [int(m.group(1)) for m in CITATION.finditer(text) if int(m.group(1)) in valid]
    assert [int(m.group(1)) for m in CITATION.finditer(out)] == kept
    if not CITATION.search(text):
        assert out == text


@FAST
@given(st.text(max_size=300).filter(lambda s: not re.search(r"\[\d", s)), st.integers(min_value=1, max_value=999))
def test_attach_citation_any_sentence_adds_exactly_one_marker(sentence: str, n: int):
    out = attach_citation(sentence, n)
    assert cited_numbers(out) == [n]
    assert len(CITATION.findall(out)) == 1
    assert re.sub(r"\s?\[\d+\]", "", out) == sentence.rstrip()


_SUFFIXES = st.sampled_from(["a.md", "a.markdown", "a.txt", "a.html", "a.htm", "a.pdf"])
_FILE_BYTES = st.one_of(
    st.binary(max_size=3000),
    _ARTICLEISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
    _ARTICLEISH.map(lambda t: ("---\n" + t + "\n---\n" + t).encode("utf-8", "surrogatepass")),
    _ARTICLEISH.map(lambda t: f"<html><body><nav>{t}</nav><article><h1>{t}</h1><p>{t}</p></article>".encode("utf-8", "surrogatepass")),
    st.binary(max_size=2000).map(lambda b: b"%PDF-1.4\n" + b),
)


@FAST
@example(b"---\ntitle: T\n---\n\n## Only a heading\n\n### Another\n", "a.md")
@given(_FILE_BYTES, _SUFFIXES)
def test_article_from_bytes_any_file_is_an_article_or_an_article_error(data: bytes, name: str):
    from corpus.errors import ArticleError
    from corpus.loaders import article_from_bytes

    try:
        article = article_from_bytes(data, name)
    except ArticleError as exc:
        assert str(exc).startswith(name)
        return
    assert article.source == name and article.text.strip() and article.title
    chunks = chunk_article(article)
    assert chunks and all(article.text[c.start : c.end] == c.text for c in chunks)
