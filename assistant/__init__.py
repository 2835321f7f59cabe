"""A conversational assistant over a collection of articles, with cited passages.

Importing this package loads no model and touches no disk; ``Assistant.from_settings`` does.
Errors: ``AssistantError`` and its children (``assistant.errors`` draws the hierarchy).
"""

from assistant import errors as _errors
from assistant.core import Assistant
from assistant.errors import ArticleError, AssistantError, CorpusError, EngineError, IndexStateError, QuestionError
from assistant.models import Answer, Citation, Passage
from assistant.settings import Settings

__all__ = ["Assistant", "Answer", "Citation", "Passage", "Settings", *_errors.__all__]
