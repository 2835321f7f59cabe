"""Follow-up questions: make a retrieval query from a question and the earlier turns. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["History", "is_follow_up", "retrieval_query"]

History = Sequence[tuple[str, str]]

_ANAPHORA = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|she|his|her|there|one|ones|"
    r"the same|the framework|the language|the company|the article|above|mentioned)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9][\w.+#-]*")


def is_follow_up(question: str) -> bool:
    """A question that leans on an earlier turn: a pronoun, or too short to stand alone."""
    return bool(_ANAPHORA.search(question)) or len(_WORD.findall(question)) <= 3


def retrieval_query(question: str, history: History = ()) -> str:
    """The question itself, or with the last user turn prepended when it is a follow-up."""
    question = question.strip()
    if not history or not is_follow_up(question):
        return question
    previous = [user for user, _ in history if user and user.strip()]
    if not previous:
        return question
    return f"{previous[-1].strip()} {question}"
