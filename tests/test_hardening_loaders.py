"""Loaders under budgets (issue 16): a PDF whose content inflates (a "bomb") or takes too long,
and a huge HTML page, are refused with one line within a few seconds; real parsers, real files."""

from __future__ import annotations

import time
import zlib

import pytest

from corpus.bounded import extract_pdf, read_pdf_text
from corpus.errors import ArticleError
from corpus.html import html_to_article_parts, strip_heavy
from corpus.loaders import article_from_bytes, load_corpus

REFUSAL_SECONDS = 5.0


def pdf_with_content(content: bytes) -> bytes:
    """A one-page PDF whose page content stream is ``content``, deflated."""
    stream = zlib.compress(content, 9)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def pdf_bomb(inflated: int = 8_000_000) -> bytes:
    """A PDF of ~20 KB whose content stream inflates to ``inflated`` bytes of text operators
    (the issue's 81-second file)."""
    op = b"(Gecko care is simple.) Tj T* "
    return pdf_with_content(b"BT /F1 12 Tf 72 720 Td " + op * (inflated // len(op)) + b"ET")


def test_pdf_bomb_is_tiny_and_refused_within_budget_with_one_line():
    data = pdf_bomb()
    assert len(data) < 40_000
    start = time.monotonic()
    with pytest.raises(ArticleError) as err:
        article_from_bytes(data, "bomb.pdf")
    assert time.monotonic() - start <= REFUSAL_SECONDS
    message = str(err.value)
    assert message.startswith("bomb.pdf: ") and "\n" not in message and "skipped" in message


def test_pdf_under_the_inflated_limit_but_slow_is_cut_at_the_time_budget():
    data = pdf_bomb(3_000_000)  # under the 4 MB stream limit; extraction alone takes longer than the budget
    start = time.monotonic()
    with pytest.raises(ArticleError, match="slow.pdf: PDF took longer than 1 s"):
        read_pdf_text(data, "slow.pdf", seconds=1.0)
    assert time.monotonic() - start < 3.0  # killed, not waited for


def test_extract_pdf_with_low_inflated_limit_reports_the_limit_in_process():
    assert extract_pdf(pdf_bomb(2_000_000), max_inflated=100_000) == {"error": "limit"}


def test_small_real_pdf_still_reads_through_the_child_process():
    data = pdf_with_content(b"BT /F1 12 Tf 72 720 Td (Leopard geckos need a warm side of 32 degrees.) Tj ET")
    article = article_from_bytes(data, "gecko.pdf")
    assert "Leopard geckos need a warm side" in article.text


def test_corpus_with_a_bomb_loads_the_other_articles_and_warns_once(tmp_path):
    (tmp_path / "bomb.pdf").write_bytes(pdf_bomb())
    (tmp_path / "good.md").write_text("# Geckos\n\nLeopard geckos eat insects.\n")
    loaded = load_corpus(tmp_path)
    assert [a.source for a in loaded.articles] == ["good.md"]
    assert len(loaded.warnings) == 1 and loaded.warnings[0].startswith("bomb.pdf: ")


def test_huge_html_page_is_refused_within_budget():
    page = "<html><body><article>" + "<p>Gecko care is simple and <b>fun</b> for all.</p>\n" * 400_000 + "</article></body></html>"
    start = time.monotonic()
    with pytest.raises(ArticleError, match="big.html: HTML page took longer than"):
        article_from_bytes(page.encode(), "big.html")
    assert time.monotonic() - start <= REFUSAL_SECONDS + 3  # plus decoding 20 MB in this process


def test_large_html_page_with_scripts_is_read_in_the_child():
    page = "<html><body><script>" + "x=1;" * 100_000 + "</script><article><h1>Geckos</h1>" + "<p>Leopard geckos eat insects.</p>" * 20 + "</article></body></html>"
    article = article_from_bytes(page.encode(), "page.html")
    assert article.title == "Geckos" and "Leopard geckos eat insects." in article.text and "x=1" not in article.text


@pytest.mark.parametrize(
    "html,expected",
    [
        ("a<script>x</script>b", "ab"),
        ("a<STYLE type=x>p{}</style >b", "ab"),
        ("a<!-- c -->b", "ab"),
        ("a<script>never closed", "a"),
        ("a<scripted>b", "a<scripted>b"),
    ],
)
def test_strip_heavy_cuts_blocks(html, expected):
    assert strip_heavy(html) == expected


def test_strip_heavy_is_linear_on_unclosed_openers():
    start = time.monotonic()
    strip_heavy("<script" * 1_000_000)
    strip_heavy("<p>" + "<!-" * 1_000_000)
    assert time.monotonic() - start < 1.0


def test_deeply_nested_html_gives_one_line_not_a_crash():
    page = "<div>" * 50_000 + "<p>Deep text.</p>" + "</div>" * 50_000
    try:
        article = article_from_bytes(page.encode(), "deep.html")
    except ArticleError as exc:
        assert str(exc).startswith("deep.html: ") and "\n" not in str(exc)
    else:
        assert "Deep text." in article.text
    assert html_to_article_parts("<p>ok text</p>")[0] == "ok text\n"
