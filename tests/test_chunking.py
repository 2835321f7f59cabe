from corpus.chunking import blocks, chunk_article
from corpus.models import Article
from corpus.text import sentence_spans, split_sentences


def _article(text: str) -> Article:
    return Article(source="a.md", title="T", text=text)


def test_blocks_with_headings_carry_their_section():
    text = "Intro para.\n\n## First\n\nPara one.\nstill one.\n\n## Second\n\nPara two."
    got = [(b.section, text[b.start : b.end]) for b in blocks(text)]
    assert got == [("", "Intro para."), ("First", "Para one.\nstill one."), ("Second", "Para two.")]


def test_chunk_article_spans_map_back_to_text():
    text = "## A\n\n" + " ".join(f"Sentence number {i} is here." for i in range(60)) + "\n\n## B\n\nShort one."
    art = _article(text)
    chunks = chunk_article(art, max_chars=200, overlap_chars=60)
    assert len(chunks) > 5
    for c in chunks:
        assert art.text[c.start : c.end] == c.text
        assert len(c.text) <= 200


def test_chunk_article_never_crosses_a_heading():
    text = "## A\n\nAlpha text.\n\n## B\n\nBeta text."
    chunks = chunk_article(_article(text), max_chars=800)
    assert [(c.section, c.text) for c in chunks] == [("A", "Alpha text."), ("B", "Beta text.")]


def test_chunk_article_packs_small_paragraphs_of_one_section():
    text = "## A\n\nOne.\n\nTwo.\n\nThree."
    chunks = chunk_article(_article(text), max_chars=800)
    assert len(chunks) == 1 and chunks[0].text == "One.\n\nTwo.\n\nThree."


def test_chunk_article_long_paragraph_overlaps_by_one_sentence():
    sentences = [f"This is sentence {i} of a long paragraph." for i in range(30)]
    chunks = chunk_article(_article(" ".join(sentences)), max_chars=300, overlap_chars=100)
    assert len(chunks) >= 3
    for prev, nxt in zip(chunks, chunks[1:]):
        last = split_sentences(prev.text)[-1]
        assert nxt.text.startswith(last)
        assert nxt.start < prev.end


def test_chunk_article_ids_are_deterministic_and_change_with_text():
    art = _article("## A\n\nAlpha text.")
    assert [c.id for c in chunk_article(art)] == [c.id for c in chunk_article(art)]
    changed = _article("## A\n\nAlpha text, edited.")
    assert chunk_article(art)[0].id != chunk_article(changed)[0].id


def test_a_repeated_heading_is_named_with_the_heading_it_sits_under():
    text = ("## Variables\n\n## Python\n\nsize = 50\n\n## Gleam\n\nlet size = 50\n\n"
            "## Functions\n\n## Python\n\ndef sum(x): ...\n\n## Gleam\n\npub fn sum(x) { }\n\n## Summary\n\nDone.")
    got = [(b.section, text[b.start : b.end]) for b in blocks(text)]
    assert got == [("Variables › Python", "size = 50"), ("Variables › Gleam", "let size = 50"), ("Functions › Python", "def sum(x): ..."),
                   ("Functions › Gleam", "pub fn sum(x) { }"), ("Summary", "Done.")]


def test_chunk_ids_change_with_the_section_they_are_embedded_with():
    # the same text under another section name is another chunk: an index built by older
    # chunking code is re-chunked, not left with the old section (and its old embedding)
    one, other = _article("## Trivia\n\nThey wield magnums."), _article("## Trivia\n\nx\n\n## Trivia\n\nThey wield magnums.")
    assert chunk_article(one)[0].id != chunk_article(_article("## Notes\n\nThey wield magnums."))[0].id
    assert chunk_article(other)[1].section == "Trivia"  # a repeated heading with nothing unique before it stays as it is


def test_chunk_article_one_huge_sentence_is_cut_at_spaces():
    art = _article("word " * 500)
    chunks = chunk_article(art, max_chars=200)
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(art.text[c.start : c.end] == c.text for c in chunks)


def test_sentence_spans_keep_abbreviations_and_split_lines():
    text = "Use tools, e.g. Go. Then Rust!\n- bullet one\n- bullet two"
    assert split_sentences(text) == ["Use tools, e.g. Go.", "Then Rust!", "- bullet one", "- bullet two"]
    assert all(text[a:b] for a, b in sentence_spans(text))


def test_chunk_article_shipped_corpus_chunks_know_title_and_section():
    from corpus.loaders import load_corpus
    from tests.conftest import CORPUS

    loaded = load_corpus(CORPUS)
    assert len(loaded.articles) == 5 and not loaded.warnings
    for art in loaded.articles:
        chunks = chunk_article(art)
        assert chunks and all(c.title == art.title for c in chunks)
        assert all(art.text[c.start : c.end] == c.text for c in chunks)
    sections = {c.section for a in loaded.articles for c in chunk_article(a)}
    assert "Go (Golang) and the Pursuit of Concurrency" in sections


def test_a_hard_cut_never_leaves_whitespace_at_a_chunk_end():
    # found by the property test: "\x85" (next line) is whitespace to str.strip but no space to cut at
    text = "0" * 50 + "\x850"
    for chunk in chunk_article(_article(text), max_chars=51, overlap_chars=0):
        assert chunk.text == chunk.text.strip() and chunk.text


def test_a_comment_in_a_fenced_code_block_is_not_a_heading():
    text = "## Install\n\nRun this:\n\n```bash\n# fetch the package\npip install gleam\n```\n\n## Use\n\nImport it."
    got = [(b.section, text[b.start : b.end]) for b in blocks(text)]
    assert [s for s, _ in got] == ["Install", "Install", "Use"]
    assert "# fetch the package" in got[1][1]
