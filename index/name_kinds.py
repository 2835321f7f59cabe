"""What a named thing is: the category words ("framework", "database") an article uses around
its mentions, weighted by how strongly each context says it ("frameworks like X", "the X
framework", "X is a lightweight framework"). Pure; ``index/named_things.py`` adds them up."""

from __future__ import annotations

from collections import Counter

from index.knowledge_text import WORDS, singular

__all__ = ["W_HEADING", "W_PATTERN", "W_SECTION", "category_words", "kind_evidence"]

# what comes before a plural that names a category ("frameworks like", "the databases")
_CATEGORY_BEFORE = {
    "the", "these", "those", "many", "other", "several", "all", "some", "most", "top", "best", "popular",
    "modern", "new", "major", "such", "different", "various", "multiple", "both", "our", "your", "their",
    "leading", "few", "two", "three", "four", "five", "which", "what",
}
_CATEGORY_AFTER = {"like", "such", "including", "include", "are", "were"}


def category_words(text: str) -> set[str]:
    """Nouns the text uses in the plural after "the", "many", "top"... or before "like",
    "such as": the words that can say what a name is ("frameworks", "databases")."""
    words = WORDS.findall(text)
    out = set()
    for i, w in enumerate(words):
        low = w.lower()
        if len(low) <= 4 or singular(low) == low or w.isupper():
            continue
        before = {w.lower() for w in words[max(0, i - 2) : i]}  # "the best game engines"
        after = words[i + 1].lower() if i + 1 < len(words) else ""
        if before & _CATEGORY_BEFORE or after in _CATEGORY_AFTER:
            out.add(singular(low))
    return out


_LIST_TRIGGERS = {"like", "including", "include", "includes", "such"}
_BETWEEN = {"and", "or", "as", "the", "also", "even"}
_COPULA = {"is", "was", "remains", "becomes", "as", "stays"}

# how strongly a context says what a name is
W_PATTERN = 3.0  # "frameworks like X, Y and Z", "X is a lightweight framework", "Language: X"
W_NEXT = 2.0  # "the X framework"
W_SECTION = 2.0  # X heads a section listed under a heading that names the kind ("Best Frameworks" > "X")
W_NEAR, W_FAR = 0.5, 0.25  # the kind word elsewhere in the sentence (within ``window`` tokens / further)
W_HEADING = 0.5  # the kind word in the heading of the name's section


def kind_evidence(tokens: list[str], spans: list[tuple[str, int, int]], categories: set[str], window: int) -> dict[int, Counter[str]]:
    """Per name (index into ``spans``): the kind words its sentence gives it, weighted. Pure."""
    out: dict[int, Counter[str]] = {n: Counter() for n in range(len(spans))}
    names_at = {}
    for n, (_, i, j) in enumerate(spans):
        for t in range(i, j + 1):
            names_at[t] = n
    for n, (_, i, j) in enumerate(spans):
        for at, w in enumerate(tokens):
            kind = singular(w)
            if (i <= at <= j) or w.isupper() or kind not in categories:
                continue
            out[n][kind] += W_NEAR if i - window <= at <= j + window else W_FAR
        if j + 1 < len(tokens) and tokens[j + 1].islower() and singular(tokens[j + 1]) == tokens[j + 1] and tokens[j + 1] in categories:
            out[n][tokens[j + 1]] += W_NEXT  # "the X framework" (not "Go frameworks")
        # "X is a lightweight framework", "X has established itself as a leading language"
        copula = next((at for at in range(j + 1, min(j + 5, len(tokens))) if tokens[at].lower() in _COPULA), None)
        if copula is not None:
            for w in tokens[copula + 1 : copula + 6]:
                if singular(w) in categories and w.islower():
                    out[n][singular(w)] += W_PATTERN
                    break
    # "frameworks like X, Y and Z": the names listed after a plural category and a trigger
    for t, w in enumerate(tokens):
        if w.lower() not in _LIST_TRIGGERS or t == 0:
            continue
        kind = singular(tokens[t - 1])
        if kind not in categories or kind == tokens[t - 1].lower():
            continue
        at = t + 1 + (1 if w.lower() == "such" else 0)
        while at < len(tokens):
            if at in names_at:
                n = names_at[at]
                out[n][kind] += W_PATTERN
                at = spans[n][2] + 1
            elif tokens[at].lower() in _BETWEEN:
                at += 1
            else:
                break
    return out

