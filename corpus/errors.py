"""The classes of the project's one error hierarchy (root ``AssistantError``).

They live in ``corpus`` because that is the bottom layer: ``corpus`` and ``index`` raise them
too, and every other package may import them without the data flow (corpus -> index ->
assistant -> ui) ever going backwards. ``assistant.errors`` re-exports them for users of the
package and draws the hierarchy.
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
