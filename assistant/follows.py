"""What follows a sentence in its article: the next sentence, the items a lead-in introduces,
the turns after a question line, the steps a how-to question asks for.

The extractive engine picks the sentence that answers best; often the answer is what comes right
after it (a lead-in's list, a question heading's paragraph, a transcript's next turns), and
sometimes that runs past the end of its passage into the article's next chunk. Pure, but for the
``following(passage)`` callable that returns the article's next chunk (None: none, or unknown).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.models import Passage
from assistant.sentences import Candidate, asks, labels, lead_in_items, same_sentence, span_of
from corpus.clean import SPEAKER, looks_like_code
from corpus.text import sentence_spans
from index.keyword import tokenize_query

__all__ = ["Following", "introduces_answer", "is_lead_in", "items_after", "more_after", "next_sentence", "paragraph_rest", "sentence_after",
           "steps_lead"]

Following = Callable[[Passage], "Passage | None"]


def introduces_answer(sentence: Candidate, passage_text: str, question_tokens: frozenset[str]) -> bool:
    """Does ``sentence`` only introduce the answer, so that the answer is what follows it? A label
    line ("Day 2 - Ropers"), a sentence that asks ("What do the infrared scenes signify?") or a
    transcript's turn that asks ("DOCTOR: So the crew went home, and left the babies behind?"),
    or one that restates the question (fewer than two words of its own)."""
    text = sentence.text
    turn = SPEAKER.match(text) is not None
    return (text in labels(passage_text) or asks(SPEAKER.sub("", text)) or (turn and text.rstrip("\"'”’) ").endswith("?"))
            or len(sentence.tokens - question_tokens) < 2)


def is_lead_in(sentence: str) -> bool:
    """A sentence that introduces what follows ("The requirements were:"), not a line of code
    that ends in a colon ("class Attention(nn.Module):")."""
    return sentence.rstrip().endswith(":") and not looks_like_code(sentence)


def next_sentence(passage: Passage, c: Candidate) -> str | None:
    """The sentence after ``c`` in its passage."""
    for a, b in sentence_spans(passage.text):
        if a >= c.end:
            return passage.text[a:b].lstrip("- ").strip() or None
    return None


def items_after(passage: Passage, lead: Candidate, following: Following | None, max_items: int) -> list[tuple[str, Passage]]:
    """The items a lead-in sentence introduces: from the rest of its passage, and from the
    passage after it in the article when the list runs on (each item cited where it is)."""
    rest = passage.text[lead.end:]
    items = [(t, passage) for t in lead_in_items(rest, max_items)]
    lines = [x for x in rest.split("\n") if x.strip()]
    runs_on = len(items) == len(lines)  # the passage ended before the list did
    nxt = following(passage) if following is not None and runs_on and len(items) < max_items else None
    if nxt is not None and nxt.section == passage.section:
        fresh = nxt.text[max(0, passage.end - nxt.start):] if nxt.start < passage.end else nxt.text
        taken = {t for t, _ in items}
        items += [(t, nxt) for t in lead_in_items(fresh, max_items - len(items)) if t not in taken]
    return items


def steps_lead(top: list[Passage], near: Sequence[Candidate], best: Candidate, following: Following | None,
               max_items: int) -> Candidate | None:
    """The lead-in of a run of steps ("... follow the following install instructions:") in the
    passage of one of the ``near`` (best) candidates, when two items or more follow it."""
    for c in near:
        text = top[c.passage].text
        for position, (a, b) in enumerate(sentence_spans(text)):
            sentence = text[a:b].strip()
            lead = Candidate(c.passage, sentence, best.score, frozenset(), position, a, b)
            if is_lead_in(sentence) and not same_sentence(best, lead):
                if len(items_after(top[c.passage], lead, following, max_items)) >= 2:
                    return lead
    return None


def more_after(top: list[Passage], c: Candidate, following: Following | None, enough: int = 150, most: int = 8) -> list[Candidate]:
    """When the sentence after a question or a label is short ("RUBY: I don't know."), the ones
    after it too, until ``enough`` characters of answer (at most ``most`` more) — on into the
    article's next chunk (appended to ``top``) when the passage ends first."""
    out: list[Candidate] = []
    have = len(SPEAKER.sub("", c.text))
    last, passage, moved = c, top[c.passage], False
    while have < enough and len(out) < most:
        text = next_sentence(passage, last)
        if text is None:
            nxt = following(passage) if following is not None and not moved else None
            if nxt is None or nxt.section != passage.section:
                break
            offset = max(0, passage.end - nxt.start)  # chunks may overlap
            top.append(nxt)
            last, passage, moved = Candidate(len(top) - 1, "", c.score, frozenset(), -1, offset, offset), nxt, True
            continue
        if asks(text):
            break
        last = Candidate(last.passage, text, c.score, frozenset(), last.position + 1, *span_of(passage.text, text, last.end))
        out.append(last)
        have += len(SPEAKER.sub("", text))
    return out


def sentence_after(top: list[Passage], c: Candidate) -> Candidate | None:
    """The sentence after ``c``: in its passage, or — when ``c`` ends its passage (a heading at a
    chunk's end) — at the start of another of ``top`` that continues the article there."""
    here = top[c.passage]
    for pi, p in [(c.passage, here)] + [(i, p) for i, p in enumerate(top) if p.source == here.source and i != c.passage]:
        offset = c.end if pi == c.passage else here.start + c.end - p.start
        if pi != c.passage and not (-4 <= offset < len(p.text)):  # (chunks may start after the blank line)
            continue
        for a, b in sentence_spans(p.text):
            text = p.text[a:b].lstrip("- ").strip()
            if a >= offset and text:
                return Candidate(pi, text, c.score, frozenset(tokenize_query(text)), c.position + 1 if pi == c.passage else 0, a, b)
    return None


def paragraph_rest(passage: Passage, lead: Candidate, chosen: Sequence[Candidate], enough: int) -> list[Candidate]:
    """The sentences after ``lead`` in its paragraph (up to a blank line or a question), until the
    answer (``chosen``) has ``enough`` characters: "Real world testing ... for a maximum of 6 months"
    goes on with "Prior to testing, a plan needs to be drawn up ...". None already chosen. Pure."""
    have = sum(len(c.text) for c in chosen)
    text, out = passage.text, []
    last_end, position = lead.end, lead.position
    for a, b in sentence_spans(text):
        if a < last_end:
            continue
        sentence = text[a:b].lstrip("- ").strip()
        if "\n\n" in text[last_end:a] or have >= enough or asks(sentence):
            break
        position, last_end = position + 1, b
        c = Candidate(lead.passage, sentence, lead.score, frozenset(tokenize_query(sentence)), position, a, b)
        if not any(same_sentence(c, x) for x in chosen):
            out.append(c)
            have += len(sentence)
    return out
