"""Article knowledge (key points, named things and their kinds) and the reduce step: pure functions,
on small articles of unrelated topics."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.grouping import Evidence, count_names, group, label, merge_singletons, rank, table
from corpus.chunking import chunk_article
from corpus.models import Article
from index.key_points import key_points
from index.knowledge import ArticleKnowledge, extract, knowledge_signature
from index.knowledge_records import mentions_from_record, point_from_record, sections_from_record, to_records
from index.knowledge_text import singular
from index.named_things import mentions, name_key

GARDEN = Article(
    source="garden.md",
    title="A Guide to Vegetable Gardening",
    text=(
        "Growing vegetables at home saves money and gives fresher food than most shops can offer.\n\n"
        "## Soil\n\nHealthy soil needs compost, air and steady moisture to feed the roots of every plant. "
        "Gardeners test the soil each spring before they sow anything in the beds. Sandy soil drains fast and needs more compost than clay.\n\n"
        "## Tools\n\nSeveral brands make good tools: brands like Fiskars, Gardena and Wolf-Garten sell spades and hoes for every budget. "
        "Fiskars is a Finnish brand that has made scissors and axes since 1649. "
        "Most beginners need only a spade, a rake and a watering can to start the season.\n\n"
        "## Pests\n\nSlugs eat young lettuce at night, so many gardeners check the beds after dark with a torch. "
        "Copper tape around the pots keeps slugs away from the young plants without any poison.\n\n"
        "## Contact\n\nWrite to us: hello@example.org\n\nShare"
    ),
)

LISTICLE = Article(
    source="engines.md",
    title="The Best Game Engines",
    text=(
        "## The Best Game Engines for Small Studios\n\nSmall studios pick engines for their tools and their price.\n\n"
        "## Godot\n\nGodot is free and open source, and its editor runs on modest laptops.\n\n"
        "## Unity\n\nUnity has a huge asset store and runs on almost every platform.\n\n"
        "## Which one to choose\n\nTeams should weigh their budget and the platforms they target. Unity suits mobile teams, Godot suits hobbyists."
    ),
)


def _points(article: Article):
    return key_points(article, chunk_article(article))


def test_key_points_take_each_sections_central_sentences_and_skip_navigation():
    points = _points(GARDEN)
    sections = {p.section for p in points}
    assert {"Soil", "Tools", "Pests"} <= sections
    assert not any("@" in p.text or p.text == "Share" for p in points)
    assert [p.order for p in points] == sorted(p.order for p in points)  # reading order
    for p in points:
        assert GARDEN.text[p.start : p.end] == p.text and p.chunk_id


def test_key_points_are_not_near_duplicates():
    doubled = Article("d.md", "Bees", "## Bees\n\n" + " ".join(["Bees pollinate the flowers of many fruit trees in the spring season."] * 6))
    assert len(_points(doubled)) == 1


def test_names_come_from_the_text_with_the_kinds_it_gives_them():
    found = {name_key(m.name): m for m in mentions(GARDEN, chunk_article(GARDEN))}
    assert {"fiskars", "gardena", "wolf"} <= set(found) or {"fiskars", "gardena"} <= set(found)
    assert found["fiskars"].kind_weight("brand") >= 3  # "brands like Fiskars", "Fiskars is a Finnish brand"
    assert found["fiskars"].count == 2
    # capitalised common words at a sentence start are not names
    assert not {"growing", "healthy", "gardeners", "slugs", "most", "copper"} & set(found)


def test_a_name_heading_a_section_under_a_kind_heading_is_of_that_kind():
    found = {name_key(m.name): m for m in mentions(LISTICLE, chunk_article(LISTICLE))}
    assert found["godot"].kind_weight("engine") >= 2 and found["unity"].kind_weight("engine") >= 2


def test_plural_acronyms_are_common_nouns_not_names():
    article = Article("a.md", "APIs", "Teams build APIs quickly. Good APIs need docs. The API gateway of Kong routes calls for Kong users.")
    keys = {name_key(m.name) for m in mentions(article, chunk_article(article))}
    assert "api" not in keys and "kong" in keys


def test_singular_and_name_key():
    assert (singular("libraries"), singular("databases"), singular("boxes"), singular("class")) == ("library", "database", "box", "class")
    assert name_key("Node.js") == name_key("Node") == "node"
    assert name_key("Django 5.0") == "django" and name_key("Python’s") == "python" and name_key("APIs") == "api"


def test_records_round_trip_and_the_signature_is_stable():
    k = extract(GARDEN, chunk_article(GARDEN))
    records = to_records(k, ["Soil", "Tools"])
    kinds = [r[2]["kind"] for r in records]
    assert kinds[:2] == ["article", "names"] and set(kinds[2:]) == {"point"}
    assert len({r[0] for r in records}) == len(records)  # ids are unique
    assert sections_from_record(records[0][2]) == ("Soil", "Tools")
    assert [m.name for m in mentions_from_record(records[1][2])] == [m.name for m in k.mentions]
    back = [point_from_record(doc, meta) for _, doc, meta, _ in records[2:]]
    assert [p.text for p in back] == [p.text for p in k.points]
    assert all(r[3].startswith(r[2]["section"]) for r in records[2:] if r[2]["section"])  # "section. sentence"
    assert knowledge_signature() == knowledge_signature() and len(knowledge_signature()) == 16
    assert isinstance(k, ArticleKnowledge) and k.article_hash == GARDEN.hash


# --- the reduce step ---------------------------------------------------------------------------
def _ev(text: str, source: str, vec: list[float], rel: float, section: str = "") -> Evidence:
    return Evidence(text, source, source.upper(), section, f"c-{source}-{text[:5]}", rel, np.asarray(vec, dtype=np.float32))


def test_group_puts_together_what_different_articles_say_alike_and_rank_orders_by_articles():
    ev = [
        _ev("serverless a", "a", [1, 0, 0], 0.9, "Serverless"),
        _ev("serverless b", "b", [0.95, 0.1, 0], 0.6, "Cloud"),
        _ev("serverless c", "c", [0.9, 0.2, 0], 0.5),
        _ev("rust a", "a", [0, 1, 0], 0.95, "Rust"),
        _ev("edge b", "b", [0, 0, 1], 0.4, "Edge"),
    ]
    groups = rank(group(ev, 0.8))
    assert [g.sources for g in groups][0] == ("a", "b", "c")
    assert groups[0].best.text == "serverless a"
    assert [len(g.sources) for g in groups] == [3, 1, 1]
    assert groups[1].best.text == "rust a"  # among single-article groups, the more relevant first


def test_group_does_not_chain_a_series_of_pairwise_similar_sentences():
    # a ~ b and b ~ c, but a and c are unlike: average link keeps a and c apart
    a, b, c = [1.0, 0.0], [0.8, 0.6], [0.28, 0.96]
    groups = group([_ev("a", "x", a, 0.9), _ev("b", "y", b, 0.8), _ev("c", "z", c, 0.7)], 0.75)
    assert len(groups) == 2


def test_points_one_article_makes_under_one_heading_become_one_point_in_place():
    ev = [
        _ev("shared a", "a", [1, 0, 0, 0], 0.9), _ev("shared b", "b", [1, 0, 0, 0], 0.8),
        _ev("discord", "c", [0, 1, 0, 0], 0.7), _ev("edge", "a", [0, 0, 1, 0], 0.65, "Edge"),
        _ev("safety", "c", [0, 0, 0, 1], 0.6),
    ]
    merged = merge_singletons(rank(group(ev, 0.8)), set(), set())
    assert [[m.text for m in g.members] for g in merged] == [["shared a", "shared b"], ["discord", "safety"], ["edge"]]


def test_a_point_does_not_say_a_sentence_twice():
    # a sentence that opens with a pronoun is read with the one before it, so neighbours overlap
    shared = "It still has ground to cover before it is mainstream."
    ev = [_ev(f"Deno is new. {shared}", "a", [1, 0], 0.9), _ev(f"{shared} It is not a Node replacement yet.", "a", [1, 0], 0.8),
          _ev("Deno has safe defaults and typing.", "a", [1, 0], 0.7)]
    merged = merge_singletons(rank(group(ev, 0.8)), set(), set())
    assert [[m.text for m in g.members] for g in merged] == [[f"Deno is new. {shared}", "Deno has safe defaults and typing."]]


def test_label_skips_generic_headings_and_titles():
    g = group([_ev("x", "a", [1, 0], 0.9, "Conclusion"), _ev("y", "b", [1, 0], 0.8, "3. Serverless Computing")], 0.5)[0]
    assert label(g, {"conclusion"}, set()) == "Serverless Computing"
    assert label(g, {"conclusion", "serverless computing"}, set()) == ""


def test_count_names_counts_articles_naming_a_thing_the_articles_call_that_kind():
    from index.named_things import Mention

    def m(name, count, kinds=()):
        return Mention(name, count, tuple(kinds), f"{name} sentence.", f"chunk-{name}")

    mentions_by_article = {
        "a": [m("Godot", 3, [("engine", 3.0)]), m("Python", 2, [("language", 6.0), ("engine", 0.5)])],
        "b": [m("Godot", 1), m("Unity", 2, [("engine", 2.0)])],
        "c": [m("Unity", 1, [("engine", 0.5)]), m("Steam", 4, [("store", 3.0)])],
    }
    counted = count_names(mentions_by_article, "engines", enough=1)
    assert [(c.name, c.sources) for c in counted] == [("Godot", ("a", "b")), ("Unity", ("b", "c"))]
    assert count_names(mentions_by_article, "languages", enough=1)[0].name == "Python"


def test_table_escapes_pipes_and_folds_lines():
    out = table(["A", "B"], [["x | y", "two\nlines"]])
    assert out.splitlines() == ["| A | B |", "|---|---|", "| x \\| y | two lines |"]


@pytest.mark.parametrize("text", ["", "Share\n\nContact us"])
def test_an_article_without_statements_has_no_points(text):
    assert _points(Article("e.md", "Empty", text)) == ()
