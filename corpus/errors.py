"""The project's one error hierarchy.

    AssistantError                 root: everything the product raises on purpose
    ├── CorpusError                a corpus folder or article cannot be used
    │   └── ArticleError           one file cannot be read as an article
    ├── IndexStateError            the index is missing, corrupt, locked or out of step
    ├── QuestionError              a question cannot be asked (empty, too long, ...)
    └── EngineError                an answer engine failed (LLM unreachable, ...)

It lives in ``corpus`` because that is the bottom layer: every other package may import
it without the data flow (corpus -> index -> assistant -> ui) ever going backwards.
The CLI and the UI each translate ``AssistantError`` into a one-line message, once.
"""

from __future__ import annotations

__all__ = [
    "AssistantError",
    "CorpusError",
    "ArticleError",
    "IndexStateError",
    "QuestionError",
    "EngineError",
]


class AssistantError(Exception):
    """Root of every error the product raises on purpose."""


class CorpusError(AssistantError):
    """The corpus folder cannot be used."""


class ArticleError(CorpusError):
    """One file cannot be read as an article; the message names the file."""


class IndexStateError(AssistantError):
    """The index is missing, corrupt, locked or does not match the corpus."""


class QuestionError(AssistantError):
    """The question cannot be asked as given."""


class EngineError(AssistantError):
    """An answer engine failed."""
