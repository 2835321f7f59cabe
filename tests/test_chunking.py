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
