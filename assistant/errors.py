"""The errors the product raises on purpose, for users of the ``assistant`` package.

    AssistantError                 root: everything the product raises on purpose
    ├── CorpusError                a corpus folder or article cannot be used
    │   └── ArticleError           one file cannot be read as an article
    ├── IndexStateError            the index is missing, corrupt, locked or out of step
    ├── QuestionError              a question cannot be asked (empty, too long, ...)
    └── EngineError                an answer engine failed (LLM unreachable, ...)

The classes are defined in ``corpus.errors``: ``corpus`` and ``index`` raise them too, and the
data flow (corpus -> index -> assistant -> ui) never imports backwards, so they live in the
bottom layer and are re-exported here (and from ``assistant``). ``from assistant.errors import
IndexStateError`` and ``from corpus.errors import IndexStateError`` are the same class.

Where they surface: the CLI (``assistant.cli.main``) and the UI each turn an ``AssistantError``
into a one-line message, once. ``Assistant.ask`` does not raise for a bad question: it returns
a refused ``Answer`` whose ``reason`` says why (``Answer.to_dict()`` carries ``reason``,
``engine`` and ``notices`` for JSON clients).
"""

from corpus.errors import ArticleError, AssistantError, CorpusError, EngineError, IndexStateError, QuestionError

__all__ = ["AssistantError", "CorpusError", "ArticleError", "IndexStateError", "QuestionError", "EngineError"]
