from pathlib import Path

import pytest

from corpus.clean import clean_plain_text, is_clutter
from corpus.errors import ArticleError
from corpus.loaders import article_from_bytes, load_corpus, parse_markdown
from tests.conftest import CORPUS, SHARED


def test_parse_markdown_reads_front_matter():
    body, meta = parse_markdown('---\ntitle: "Go"\npublisher: ACME\ndate: 2026-03-01\n---\n\n## H\n\nText.\n', "go.md")
    assert meta["title"] == "Go" and meta["publisher"] == "ACME" and meta["date"] == "2026-03-01"
    assert body == "## H\n\nText.\n"


def test_parse_markdown_invalid_front_matter_names_the_file():
    with pytest.raises(ArticleError, match="bad.md: invalid front matter"):
        parse_markdown("---\ntitle: [unclosed\n---\nText\n", "bad.md")


def test_article_from_bytes_markdown_without_front_matter_uses_h1_title():
    art = article_from_bytes(b"# My Title\n\nSome text here.\n", "x.md")
    assert art.title == "My Title" and "My Title" not in art.text


def test_article_from_bytes_html_keeps_main_text_drops_menus():
    html = b"""<html><head><title>Page</title><meta property="og:site_name" content="Pub"></head><body>
    <nav><a>Home</a><a>Blog</a></nav><header>Site header</header>
    <article><h1>Real Title</h1><h2>Part</h2><p>The real paragraph.</p><div class="share-buttons">Share</div>
    <ul><li>item one</li></ul></article><footer>Address 1 Main St</footer></body></html>"""
    art = article_from_bytes(html, "p.html")
    assert art.title == "Real Title" and art.publisher == "Pub"
    assert "## Part" in art.text and "The real paragraph." in art.text and "- item one" in art.text
    for junk in ("Home", "Site header", "Share", "Main St"):
        assert junk not in art.text


def test_article_from_bytes_pdf_extracts_text(tmp_path: Path):
    pdf = _tiny_pdf("Serverless platforms scale on demand.")
    art = article_from_bytes(pdf, "s.pdf")
    assert "Serverless platforms scale on demand." in art.text


def _tiny_pdf(text: str) -> bytes:
    from tests.test_hardening_loaders import pdf_with_content

    return pdf_with_content(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("empty.md", b"", "empty file"),
        ("bin.txt", b"\x00\x01\x02binary", "binary file"),
        ("latin.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8"),
        ("fake.pdf", b"not a pdf", "not a PDF"),
    ],
)
def test_load_corpus_bad_file_warns_and_keeps_the_rest(tmp_path: Path, name: str, data: bytes, message: str):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n\nGood text here.\n")
    (tmp_path / name).write_bytes(data)
    loaded = load_corpus(tmp_path)
    assert [a.source for a in loaded.articles] == ["good.md"]
    assert len(loaded.warnings) == 1 and loaded.warnings[0].startswith(name) and message in loaded.warnings[0]
    assert "\n" not in loaded.warnings[0]


def test_clean_plain_text_removes_site_clutter_keeps_wording():
    raw = (SHARED / "articles" / "000_c5d6c28813630c4c.txt").read_text()
    body, title = clean_plain_text(raw)
    assert title == "Backend Framework Trends That Will Dominate in 2026"
    for junk in ("Website Logo", "Share", "keyur@eleorex.com", "Related Aricles", "Saskatoon", "Let’s talk"):
        assert junk not in body
    assert "## 1. Rise of Lightweight and Fast Frameworks" in body
    assert "safeguarding against SQL injection attacks." in body


def test_is_clutter_keeps_real_sentences():
    assert is_clutter("Share") and is_clutter("Business Inquiry: someone@example.com")
    assert not is_clutter("Share your thoughts on Go, which powers tools at Google.")


def test_shipped_corpus_has_metadata_and_source_files():
    loaded = load_corpus(CORPUS)
    by_title = {a.title: a for a in loaded.articles}
    guide = by_title["Backend Development Trends: A Complete Guide for 2026"]
    assert guide.publisher == "Tech AKM" and guide.date == "2026-03"
    assert all("Related" not in a.text and "Let's Discuss" not in a.text for a in loaded.articles)
    assert CORPUS.joinpath("best-backend-frameworks-2026.md").read_text().count("source_file:") == 1


def test_a_heading_like_line_after_the_first_paragraph_is_a_heading_not_the_title():
    from corpus.clean import clean_plain_text

    body, title = clean_plain_text("The party walks for miles through the dark tunnels.\n\nDay 2 – Ropers\nThey meet two ropers.\n")
    assert title is None and "## Day 2 – Ropers" in body
    body, title = clean_plain_text("Bullet Kin\nBullet Kin are the most common enemy.\n")
    assert title == "Bullet Kin" and "common enemy" in body


def test_title_like_lines_after_a_lead_in_are_list_items_not_empty_headings():
    from corpus.chunking import chunk_article
    from corpus.clean import clean_plain_text
    from corpus.models import Article

    raw = ("Impact\nIn this post I will go over the following:\nWhy impact matters for ICs\nWhy focusing on impact is hard\n"
           "How to maximize your impact\nLet us dive in.\nResults\nThe results were good.\n")
    body, title = clean_plain_text(raw)
    assert "- Why impact matters for ICs\n- Why focusing on impact is hard\n- How to maximize your impact" in body
    assert "## Results" in body  # a title-like line with text under it stays a heading
    chunks = chunk_article(Article("a.txt", title or "a", body))
    assert any("Why focusing on impact is hard" in c.text for c in chunks)  # no words lost to empty sections


def test_a_capitals_title_above_prose_heads_it_even_after_a_credit_line():
    # a listicle: each entry is a credit line, the entry's title in capitals, then its review
    raw = ("The best books of the year\nWe picked our favourites.\n\nImage: Random House\nSAME BED DIFFERENT DREAMS BY ED PARK\n"
           "Same Bed Different Dreams is a remarkable achievement.\n\nImage: Tor\nFOURTH WING BY REBECCA YARROS\n"
           "This action-packed fantasy romance has dragon riding.\n\nIn this post:\nWhy it matters\nHow to start\nLet us dive in.\n")
    body, _ = clean_plain_text(raw)
    assert "## SAME BED DIFFERENT DREAMS BY ED PARK" in body and "## FOURTH WING BY REBECCA YARROS" in body
    assert "- Why it matters\n- How to start" in body  # title-like lines after a lead-in stay items


def test_a_list_item_names_its_capitals_section_as_a_title():
    from assistant.models import Passage
    from assistant.sentences import with_section

    passage = Passage(chunk_id="b:0", text="It has dragon riding.", title="Best books", source="b.txt", section="FOURTH WING BY REBECCA YARROS", score=1.0)
    assert with_section("It has dragon riding.", passage) == "Fourth Wing by Rebecca Yarros: It has dragon riding."


WRAPPED = """Retrieval for Small Teams
Abstract
Retrieval-augmented generation merges retrieval methods
with deep learning advancements to address the static
limitations of large language models by enabling the
dynamic integration of up-to-date external information.
Seen from the retrieval viewpoint, the survey outlines
RAG's evolution and discusses the progression of the
field through the analysis of significant studies.
1 Introduction
The advent of chat assistants has impacted both academia
and industry due to their interactive capabilities and
widespread application in many domains of daily work.
2.1 Basic Workflow
Documents are split into chunks, embedded and stored in
an index that is searched for every question asked.
"""


def test_hard_wrapped_text_reads_back_as_paragraphs_with_its_numbered_sections():
    from corpus.clean import unwrap

    body, title = clean_plain_text(WRAPPED)
    assert title == "Retrieval for Small Teams"
    assert ("Retrieval-augmented generation merges retrieval methods with deep learning advancements to address the static "
            "limitations of large language models by enabling the dynamic integration of up-to-date external information.") in body
    assert "the survey outlines RAG's evolution and discusses" in body  # a line that fills the width and stops mid-sentence goes on
    assert "## 1 Introduction" in body and "## 2.1 Basic Workflow" in body
    web = ["Go is fast.", "", "Rust is safe.", "It compiles slowly.", "x = compute(y)", "    return x"]
    assert unwrap(web) == web  # lines that are paragraphs already, and code, stay as they are


def test_a_hard_wrapped_pdf_is_read_as_sentences_not_lines():
    from test_bad_input import make_pdf

    article = article_from_bytes(make_pdf(WRAPPED.splitlines()), "survey.pdf")
    assert "Documents are split into chunks, embedded and stored in an index that is searched for every question asked." in article.text


def test_code_comments_and_code_lines_in_plain_text_are_not_headings():
    raw = ("Gleam for Python users\nA cheat sheet for people who know Python.\n\n# Installation\nRun the installer first.\n\n"
           "x = 1\n# works also for for-loops\nfor i in range(3): print(i)\n\nattn_weights.shape = (B, T, T)\nThe weights are a matrix.\n")
    body, _ = clean_plain_text(raw)
    assert "\n# Installation\n" in body  # a Markdown heading in plain text is still one
    assert "`# works also for for-loops`" in body and "## works" not in body
    assert "## attn_weights" not in body and "attn_weights.shape = (B, T, T)" in body


def test_a_transcript_turn_is_not_a_heading():
    raw = "Space Babies\nThe Doctor lands the Tardis.\n\nRUBY: Oh, it stinks\nDOCTOR: It's a nappy.\n\nRUBY: Who are you?\n"
    body, title = clean_plain_text(raw)
    assert title == "Space Babies" and "RUBY: Oh, it stinks" in body and "## RUBY" not in body


def test_a_table_of_contents_naming_related_posts_does_not_cut_the_article():
    body_text = "\n\n".join(f"Paragraph {i} explains how GPU memory bandwidth limits training speed." for i in range(20))
    raw = ("Which GPU to get\nContents\nTensor Cores\nRelated\nRelated Posts\n\n" + body_text
           + "\n\nRelated Posts\nTen other posts you may like\n")
    body, _ = clean_plain_text(raw)
    assert "Paragraph 19 explains" in body  # the article is all there
    assert "Ten other posts" not in body  # the footer at its end still ends it


@pytest.mark.parametrize("line", ["2020-09-07: Added NVIDIA Ampere series GPUs.", "8 Dec 2023: llmware v0.1.11",
                                  "7 December 2021 (announcement)", "git clone git@github.com:llmware-ai/llmware.git",
                                  "200 cycles (global memory) + 8*34 cycles (shared memory) = 504 cycles"])
def test_dates_release_notes_and_commands_are_text_not_clutter(line):
    assert not is_clutter(line)


@pytest.mark.parametrize("line", ["101-733 Broadway Avenue, Saskatoon, SK S7N", "Business Inquiry: keyur@eleorex.com",
                                  "Call us: (306) 555-0199", "+1 306 555 0199", "Ahmedabad – 380049"])
def test_addresses_phones_and_e_mails_are_clutter(line):
    assert is_clutter(line)


def test_the_end_of_a_cheat_sheet_or_a_transcript_is_kept():
    sheet = ("Gleam for Python users\nA cheat sheet.\n\nNamed imports\nimport nasa/rocket_ship\npub fn explore_space() {\n"
             "  rocket_ship.launch()\n}\n")
    assert "rocket_ship.launch()" in clean_plain_text(sheet)[0]
    script = "Space Babies\nThe Doctor lands.\n\nDOCTOR: My name was...\n(He doesn't wait for the results of the scan.)\n"
    assert "(He doesn't wait for the results of the scan.)" in clean_plain_text(script)[0]
    page = "Go in 2026\nGo is fast.\n\nLet's Discuss your Project\nGet a quote\nACME Software\n"
    assert clean_plain_text(page)[0].rstrip().endswith("Go is fast.")  # a call to action at the end still goes


def test_a_page_number_is_not_a_heading_but_a_version_is():
    body, _ = clean_plain_text("Notes\nSome text here.\n\n3\nMore text after the page break.\n\n1.6.8\nStardew Valley 1.6.8 was released.\n")
    assert "## 3" not in body and "## 1.6.8" in body


def test_markdown_title_is_not_a_comment_in_a_code_block():
    body, meta = parse_markdown("Set up first.\n\n```bash\n# install it\npip install gleam\n```\n\nThen run it.\n", "setup.md")
    assert meta.get("title") is None and "# install it" in body
    body, meta = parse_markdown("```python\n# a comment\nx = 1\n```\n\n# Gleam in 2026\n\nGleam is typed.\n", "g.md")
    assert meta["title"] == "Gleam in 2026" and "# a comment" in body and "# Gleam in 2026" not in body


def test_the_questions_of_a_q_and_a_page_head_their_answers():
    raw = (
        "Why do we need rules for AI?\nThe potential benefits of AI for our societies are many, from better care to better education.\n\n"
        "What are the penalties for infringement?\nMember States will have to lay down effective, proportionate and dissuasive penalties.\n\n"
        "Is the act future-proof?\nThe regulation introduces a different level of risks and is designed to last.\n\n"
        "I do not have enough money for a GPU. What can I do?\nDefinitely buy used GPUs, and rent cloud machines for the big runs.\n"
    )
    body, _ = clean_plain_text(raw)
    assert "## What are the penalties for infringement?" in body.split("\n")
    assert "## Why do we need rules for AI?" in body.split("\n")
    assert "## Is the act future-proof?" in body.split("\n")
    assert "## I do not have enough money for a GPU. What can I do?" in body.split("\n")


def test_a_question_in_running_text_or_a_list_of_questions_is_not_a_heading():
    story = ("My brother pulled me into a tight embrace after the long drive to the old house.\n\n"
             "How could Perry still love me after everything I had done to him?\n"
             "The corners of his mouth lifted, and he walked into the dusty living room ahead of me.\n")
    assert "## " not in clean_plain_text(story)[0]
    checklist = ("Ask yourself these questions about your work this quarter, every quarter.\n\n"
                 "Did your analysis change the roll-out strategy?\nDid your model improve forecast accuracy?\n"
                 "Does your dashboard save the team hours every week?\n"
                 "If the answer is no, you are probably working on the wrong things right now.\n")
    assert "## " not in clean_plain_text(checklist)[0]


def test_a_question_set_in_title_case_heads_its_section():
    raw = ("The film follows a family that lives beside the camp, going about their day.\n\n"
           "What Do The Scenes In Infrared Signify?\n"
           "The significance of the infrared might be that the family cannot be themselves outside.\n")
    assert "## What Do The Scenes In Infrared Signify?" in clean_plain_text(raw)[0].split("\n")


def test_a_heading_like_code_comment_between_code_lines_is_code_not_a_title():
    raw = ("Recipes\nUse them as building blocks when making your own notebooks.\n\n"
           "Create a timer that fires once a second:\n\n"
           'refresh = mo.ui.refresh(default_interval="1s")\n# This outputs a timer that fires once a second\nrefresh\n'
           "ctx_len = 8\n# [18, 47, 56, 57]\n# 8 sub examples\n# [18] --> 47\n")
    body, _ = clean_plain_text(raw)
    lines = body.split("\n")
    assert "`# This outputs a timer that fires once a second`" in lines and "`# 8 sub examples`" in lines
    assert not any(line.startswith("# ") for line in lines)
