"""A conversational assistant over a collection of articles, with cited passages.

Importing this package loads no model and touches no disk; ``Assistant.from_settings`` does.
"""

from assistant.core import Assistant
from assistant.models import Answer, Citation, Passage
from assistant.settings import Settings
from corpus.errors import AssistantError

__all__ = ["Assistant", "Answer", "Citation", "Passage", "Settings", "AssistantError"]
