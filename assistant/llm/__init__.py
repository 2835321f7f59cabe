"""LLM answer engines: ``local`` (llama.cpp, packaged model) and ``openai`` (any
OpenAI-compatible server), with every citation verified by code.

- ``model_files``: assemble and checksum the packaged GGUF model.
- ``backends``: chat models behind one ``stream(messages, max_tokens)`` protocol.
- ``prompts``: passages fenced as numbered data; the condense prompt for follow-ups.
- ``verify``: sentence-by-sentence support checks of generated answers.
- ``engine``: ``LLMEngine`` (answer, answer_stream, condense) and ``build_llm_engine``.

Importing this package loads no model and reaches no network.
"""
