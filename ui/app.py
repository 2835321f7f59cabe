"""The chat window (minimal; its own issue builds it out). Thin: handlers are plain functions."""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "serve", "format_sources"]


def format_sources(answer: Any) -> str:
    if answer.refused or not answer.citations:
        return ""
    out = []
    for c in answer.citations:
        out.append(f"**[{c.n}] {c.title}** — {c.section}\n\n> {c.text}")
    return "\n\n".join(out)


def build_app(assistant: Any) -> Any:
    from index.offline import ensure_offline

    ensure_offline()
    import gradio as gr

    def respond(message: str, history: list[dict[str, Any]]) -> str:
        pairs = []
        user = None
        for m in history or []:
            if m.get("role") == "user":
                user = m.get("content")
            elif m.get("role") == "assistant" and user is not None:
                pairs.append((str(user), str(m.get("content"))))
                user = None
        answer = assistant.ask(message, history=tuple(pairs))
        sources = format_sources(answer)
        return answer.text + ("\n\n---\n" + sources if sources else "")

    with gr.Blocks(title="Article assistant") as app:
        gr.ChatInterface(respond)
    return app


def serve(assistant: Any, settings: Any) -> None:
    app = build_app(assistant)
    app.launch(server_name=settings.host, server_port=settings.port, auth=settings.auth)
