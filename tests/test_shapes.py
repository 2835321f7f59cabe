"""The question-shape classifier: pure rules, tested on questions from unrelated domains."""

from __future__ import annotations

import pytest

from assistant.shapes import SHAPES, Shape, classify


@pytest.mark.parametrize(
    "question",
    [
        "Who wrote the novel?",
        "When was the castle built?",
        "What is the policy on fishing quotas?",
        "What makes haunted enemies different?",
        "Which company uses the engine for its games?",
        "Which edge platform runs code close to users?",
        "What does the sword's enchantment do?",
        "How long has the narrator been sober?",
        "What is the advantage of the new tax?",
        "Which book is the best?",
        "",
        "   ",
        "?",
    ],
)
def test_plain_questions_fall_back_to_factoid(question):
    assert classify(question) == Shape("factoid")


@pytest.mark.parametrize(
    ("question", "entity"),
    [
        ("What are the requirements for the grant?", "requirements"),
        ("Which enemy types carry a shotgun?", "types"),
        ("What monsters live in the swamp?", "monsters"),
        ("What are the four steps to apply?", "steps"),
        ("Which companies use Haskell in production?", "companies"),
        ("What items does the merchant sell?", "items"),
        ("What are the proposed changes that affect farmers?", "changes"),
        ("Which books have dragons in them?", "books"),
        ("List the rivers of the region.", "rivers"),
        ("Name the founders of the club.", "founders"),
        ("What are all the endings of the game?", "endings"),
    ],
)
def test_questions_asking_for_several_items_are_lists(question, entity):
    assert classify(question) == Shape("list", entity=entity)


@pytest.mark.parametrize(
    ("question", "sides"),
    [
        ("Compare Spring Boot and Express.", ("Spring Boot", "Express")),
        ("compare the bow with the crossbow", ("bow", "crossbow")),
        ("Rust vs Go for command-line tools?", ("Rust", "Go")),
        ("Tea versus coffee", ("Tea", "coffee")),
        ("What is the difference between a lease and a licence?", ("lease", "licence")),
        ("What are the differences between plan A and plan B?", ("plan A", "plan B")),
        ("How does the 2023 budget differ from the 2024 budget?", ("2023 budget", "2024 budget")),
        ("How do wolves and coyotes compare?", ("wolves", "coyotes")),
        ("Should I use Postgres or MySQL?", ("Postgres", "MySQL")),
        ("Which is better, the katana or the longsword?", ("katana", "longsword")),
        ("Is Vue easier than React?", ("Vue", "React")),
        ("What are the pros and cons of renting and buying?", ("renting", "buying")),
        ("What is the advantage of trains over planes?", ("trains", "planes")),
        ("How is error handling different in Gleam compared to Python?", ("Gleam", "Python")),
        ("Compare how errors are handled in Python and Gleam.", ("Python", "Gleam")),
        ("How is Go different from Rust?", ("Go", "Rust")),
        ("How are variables declared differently in Gleam and Python?", ("Gleam", "Python")),
    ],
)
def test_comparisons_name_both_sides(question, sides):
    assert classify(question) == Shape("comparison", sides=sides)


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("Summarize the article about developer priorities.", "developer priorities"),
        ("Summarise the post on container security", "container security"),
        ("Please summarize 'The Last Harvest'", "The Last Harvest"),
        ("Give me a summary of the guide to sourdough baking", "sourdough baking"),
        ("Give me an overview of the page about the EU farm policy", "the EU farm policy"),
        ("TL;DR of the article on tidal energy", "tidal energy"),
        ("What are the key points of the article on rail strikes?", "rail strikes"),
        ("What is the article about honeybees about?", "honeybees"),
        ("sum up the document titled Annual Report", "Annual Report"),
    ],
)
def test_summaries_name_their_target(question, target):
    assert classify(question) == Shape("summary", target=target)


@pytest.mark.parametrize(
    ("question", "entity"),
    [
        ("What do the articles say about remote work?", ""),
        ("What do the articles predict for solar power in 2030?", ""),
        ("Which frameworks do the articles recommend most often?", "frameworks"),
        ("Which tools are mentioned most often?", "tools"),
        ("Do the articles agree about nuclear energy?", ""),
        ("Which articles mention the harbour?", ""),
        ("How many articles discuss inflation?", ""),
        ("What trends are shaping retail?", "trends"),
        ("What factors should I weigh when choosing a school?", "factors"),
        ("What are the pros and cons of electric cars?", "pros"),
        ("What is the consensus on fasting across the sources?", ""),
        ("What does the collection say about serverless?", ""),
        ("What does the whole corpus say about Rust?", ""),
    ],
)
def test_questions_about_the_whole_collection(question, entity):
    assert classify(question) == Shape("collection", entity=entity)


def test_a_question_about_this_article_is_not_collection_wide():
    assert classify("What are the key topics of this article?").name == "summary"  # of the one it is limited to
    assert classify("What is this article about?").name == "summary"
    assert classify("What does this article say about tides?").name == "factoid"


def test_a_collection_of_things_is_not_the_collection_of_articles():
    assert classify("What does the collection of Go libraries include?").name != "collection"
    assert classify("What is a collection in Chroma?").name == "factoid"


def test_every_result_is_a_known_shape_and_the_classifier_is_pure():
    questions = ["Compare A and B", "Summarize the article on X", "What do the articles say?", "What is X?"]
    first = [classify(q) for q in questions]
    assert [classify(q) for q in questions] == first
    assert {s.name for s in first} <= set(SHAPES)


def test_shape_is_frozen():
    with pytest.raises(AttributeError):
        classify("What is X?").name = "list"  # type: ignore[misc]


def test_pros_and_cons_questions_are_collection_wide_with_their_subject():
    from assistant.pros_cons import leaning, pros_cons_subject

    for q, subject in [("What are the pros and cons of microservices?", "microservices"),
                       ("What are the advantages and disadvantages of using serverless?", "serverless"),
                       ("Strengths and weaknesses of GraphQL", "GraphQL")]:
        assert classify(q).name == "collection" and pros_cons_subject(q) == subject
    assert pros_cons_subject("What are the benefits of Go?") is None
    # equal similarity to both questions: the words decide
    assert leaning("However, it adds complexity and overhead.", 0.5, 0.5) > 0 > leaning("It enables faster, independent releases.", 0.5, 0.5)


def test_news_counts_what_a_sentence_says_beyond_the_question():
    from assistant.collection_text import news
    from index.keyword import tokenize_query

    asked = frozenset(tokenize_query("What trends do the articles expect to shape backend development in 2026?"))
    restated = news("Several emerging trends will shape the future of backend development.", asked)
    named = news("AI integration is becoming standard in backend systems, embedded in databases and APIs.", asked)
    assert restated < 1.2 < named
