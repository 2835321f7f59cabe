"""The chat window: ``build_app(assistant)`` wires ``ui.handlers`` to Gradio components.

No retrieval or formatting happens here; every callback is a line or two around a handler that
tests call directly. Styling lives in ``style.css`` and is passed at launch
(``launch_options``), as Gradio 6 wants.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from corpus.errors import AssistantError
from corpus.loaders import SUPPORTED_SUFFIXES
from ui import arrivals, handlers, render, sidebar
from ui.guard import check_credentials

__all__ = ["build_app", "launch_options", "check_bind", "serve", "is_local"]

_HEADER = (
    '<div class="app-header"><div class="app-title">Article assistant</div>'
    '<div class="app-subtitle">Answers from your articles, every sentence cited. '
    "Click a <span class=\"cite-demo\">[n]</span> to see the passage it comes from.</div></div>"
)
_SCROLL_TO_TARGET = "() => { const el = location.hash && document.getElementById(location.hash.slice(1)); if (el) el.scrollIntoView({block: 'nearest'}); }"
_PLACEHOLDER = "**Ask anything the articles cover.** Follow-up questions keep the context."


def build_app(assistant: Any, examples: list[str] | None = None) -> Any:
    """The Gradio ``Blocks`` of the chat window for ``assistant`` (not launched)."""
    from index.offline import ensure_offline

    ensure_offline()
    import gradio as gr

    choices = handlers.article_choices(assistant)
    if examples is None:
        examples = handlers.examples_for(assistant.outline())

    with gr.Blocks(title="Article assistant", fill_width=False) as app:
        messages = gr.State([])
        history = gr.State([])
        panels = gr.State([])  # the sources panel of each message, for clicks on earlier answers
        with gr.Row(equal_height=False, elem_classes="top-row"):
            gr.HTML(_HEADER)
            status = gr.HTML(handlers.status_html(assistant), label="Status", elem_id="status")
        with gr.Row(equal_height=False):
            bar = sidebar.build(gr, assistant)  # saved conversations, export, engine (ui/sidebar.py)
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="chat",
                    height=560,
                    examples=[{"text": q} for q in examples] or None,
                    placeholder=_PLACEHOLDER,
                    # our bubbles are HTML built from escaped text (ui.render): no Markdown or LaTeX
                    # pass over them, so nothing a question, title or passage holds becomes markup
                    render_markdown=False,
                    latex_delimiters=[],
                    sanitize_html=True,
                    allow_tags=False,
                    feedback_options=("Like", "Dislike"),
                    group_consecutive_messages=False,
                    buttons=[],  # a copy button would copy the markup, not the answer
                )
                question = gr.Textbox(
                    show_label=False,
                    label="Question",
                    placeholder="Ask about the articles… (Enter to send)",
                    submit_btn="Ask",
                    elem_id="question",
                    autofocus=True,
                    max_lines=6,
                )
                bar = sidebar.feedback_box(gr, bar)
                clear = gr.Button("New conversation", size="sm", variant="secondary", elem_id="clear")
            with gr.Column(scale=2, min_width=320):
                gr.HTML('<div class="panel-title">Sources</div>')
                sources = gr.HTML(render.SOURCES_EMPTY, label="Sources", elem_id="sources")
                with gr.Accordion("Limit to articles", open=False):
                    selected = _article_filter(gr, assistant)(
                        choices=choices,
                        value=[],
                        multiselect=True,
                        filterable=True,  # type to narrow a long list
                        label="Articles",
                        info="Answers come only from the chosen articles; none chosen = all.",
                        elem_id="filter",
                    )
                with gr.Accordion("Add articles", open=False):
                    files = _article_files(gr)(
                        file_count="multiple",
                        file_types=list(SUPPORTED_SUFFIXES),
                        label="Article files: Markdown, text, HTML or PDF",
                        elem_id="upload",
                    )
                    url_box = arrivals.url_box(gr)  # pages by address (ui/arrivals.py)
                    upload_result = gr.HTML("", label="Upload result", elem_id="upload-result")

        chat_inputs = [question, messages, history, selected, panels, bar.engine, bar.current]
        chat_outputs = [chatbot, messages, history, sources, question, panels]

        def chat_turn(message: str, shown: list[Any], pairs: list[Any], chosen: list[str] | None, earlier: list[str],
                      engine: str | None, current: dict[str, Any] | None):
            first = True
            for view in handlers.respond(assistant, message, shown, pairs, chosen, earlier, engine=engine):
                # empty the box once (the person may type the next question meanwhile) and
                # offer Stop while the answer streams
                if view.done:
                    box = gr.Textbox(submit_btn="Ask", stop_btn=False)
                else:
                    box = gr.Textbox(value="", submit_btn=False, stop_btn=True) if first else gr.skip()
                first = False
                kept = sidebar.after_turn(current, message, view, engine) if view.done else gr.skip()
                yield view.messages, view.messages, view.history, view.sources, box, view.panels, kept

        def stop_chat(shown: list[Any], pairs: list[Any], earlier: list[str]):
            view = handlers.stopped(shown, pairs, earlier)
            return view.messages, view.messages, view.history, view.sources, gr.Textbox(submit_btn="Ask", stop_btn=False), view.panels

        def clear_chat():
            view = handlers.cleared()
            return view.messages, view.messages, view.history, view.sources, "", view.panels

        def show_sources_of(earlier: list[str], evt: gr.SelectData):
            panel = handlers.panel_for(earlier, evt.index)
            return gr.skip() if panel is None else panel

        def take_example(evt: gr.SelectData) -> str:
            return (evt.value or {}).get("text", "")

        # Gradio reads these annotations to inject event data and to type the API; with
        # postponed annotations it needs the real objects.
        take_example.__annotations__ = {"evt": gr.SelectData, "return": str}
        show_sources_of.__annotations__ = {"earlier": list, "evt": gr.SelectData}

        def add_files(files: list[str] | None, progress=gr.Progress()):
            try:
                view = handlers.upload(assistant, files, progress=lambda fraction, text: progress(fraction, desc=text))
            finally:
                _discard_uploads(files)  # refused or saved, the temporary copy goes
            return view.result, view.status, gr.Dropdown(choices=view.choices), None

        def examples_now():
            """The example questions of the collection as indexed now (after an upload or a re-index)."""
            try:
                now = handlers.examples_for(assistant.outline())
            except AssistantError:
                now = []
            return gr.Chatbot(examples=[{"text": q} for q in now] or None)

        def refresh():
            return handlers.status_html(assistant), gr.Dropdown(choices=handlers.article_choices(assistant))

        def ask_api(question: str) -> dict[str, Any]:
            """Answer one question from the articles: the same JSON object as `assistant ask --json`."""
            return handlers.ask_json(assistant, question)

        ask_api.__annotations__ = {"question": str, "return": dict[str, Any]}

        asked = question.submit(chat_turn, chat_inputs, [*chat_outputs, bar.current], api_name="chat")
        example_asked = chatbot.example_select(take_example, None, question, api_visibility="private").then(
            chat_turn, chat_inputs, [*chat_outputs, bar.current], api_name="example_chat", api_visibility="private"
        )
        question.stop(stop_chat, [messages, history, panels], chat_outputs, cancels=[asked, example_asked], api_visibility="private")
        # a click on an earlier answer (or its [n]) shows that answer's sources, then scrolls to [n]
        chatbot.select(show_sources_of, [panels], sources, api_visibility="private", show_progress="hidden").then(
            None, None, None, js=_SCROLL_TO_TARGET, api_visibility="private"
        )
        cleared = [clear.click(clear_chat, None, chat_outputs, api_visibility="private"),
                   chatbot.clear(clear_chat, None, chat_outputs, api_visibility="private")]
        sidebar.wire(gr, app, assistant, bar, chatbot, chat_outputs, [asked, example_asked], cleared)
        files.upload(add_files, [files], [upload_result, status, selected, files], api_name="upload")
        # the status line changes whenever the index does (an upload, an added address, a
        # re-index elsewhere): the example questions follow the collection
        status.change(examples_now, None, chatbot, api_visibility="private", show_progress="hidden")
        app.load(refresh, None, [status, selected], api_visibility="private", show_progress="hidden").then(
            examples_now, None, chatbot, api_visibility="private", show_progress="hidden"
        )
        gr.api(ask_api, api_name="ask")
        arrivals.wire(gr, assistant, url_box, upload_result, status, selected)  # and a refresh after re-indexes elsewhere
    # Several conversations at once: answers are short CPU work (embedding a few sentences),
    # so a handful in flight keeps both cores busy instead of queueing every turn behind one.
    app.queue(default_concurrency_limit=4)
    return app


def _article_files(gr: Any) -> Any:
    """``gr.File`` that hands the callback ``(name as sent, path)`` pairs, not bare paths, so the
    upload rules judge the name the client gave (``../../x.md`` is refused, not flattened) and
    each file gets its own verdict instead of one error for the whole batch. Only a regular
    file inside Gradio's upload folder (what ``/upload`` received) is a source; any other path a
    client names comes through as ``(name, None)`` and is refused by the handler."""
    from gradio.utils import get_upload_folder

    class ArticleFiles(gr.File):
        is_template = True  # drawn by the frontend as a plain gr.File

        def preprocess(self, payload: Any) -> list[tuple[str, str | None]] | None:
            if payload is None:
                return None
            items = list(payload) if isinstance(payload, gr.data_classes.ListFiles) else [payload]
            root = Path(get_upload_folder()).resolve()
            return [(f.orig_name or Path(str(f.path)).name, _received(str(f.path), root)) for f in items]

    return ArticleFiles


def _received(path: str, root: Path) -> str | None:
    """``path`` when it is a regular file (not a link) inside the upload folder ``root``."""
    try:
        candidate = Path(path)
        if candidate.is_symlink() or not candidate.is_file():
            return None
        return path if candidate.resolve().is_relative_to(root) else None
    except (OSError, ValueError):
        return None


def _discard_uploads(files: Any) -> None:
    """Delete the upload folder's copies of ``files`` (``(name, path)`` pairs) and their
    now-empty per-upload folders, so nothing uploaded can be fetched by path afterwards."""
    from gradio.utils import get_upload_folder

    root = Path(get_upload_folder()).resolve()
    for item in files or []:
        path = item[1] if isinstance(item, (tuple, list)) else item
        if not path or _received(str(path), root) is None:
            continue
        target = Path(str(path))
        try:
            target.unlink()
            if target.parent.resolve() != root:
                target.parent.rmdir()  # only when empty
        except OSError:
            pass


def _article_filter(gr: Any, assistant: Any) -> Any:
    """``gr.Dropdown`` whose values are checked against the articles indexed now (Gradio checks
    them against the choices it was built with, so an article uploaded later was refused over
    the API). An unknown value is refused with one line that lists nothing."""

    class ArticleFilter(gr.Dropdown):
        is_template = True  # drawn by the frontend as a plain gr.Dropdown

        def preprocess(self, payload: Any) -> Any:
            if payload is None:
                return None
            values = payload if isinstance(payload, list) else [payload]
            known = {source for _, source in handlers.article_choices(assistant)}
            for value in values:
                if not isinstance(value, str) or value not in known:
                    raise gr.Error(f"{render.one_line(str(value), 80)!r} is not an indexed article", print_exception=False)
            return list(values) if self.multiselect else values[0]

        def api_info(self) -> dict[str, Any]:
            # the articles change while the app runs: no frozen enum of names in the schema
            return {"type": "array", "items": {"type": "string"}, "description": "article file names; none = all"}

        def example_payload(self) -> Any:
            return []

        def example_value(self) -> Any:
            return []

    return ArticleFilter


def launch_options(settings: Any = None) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: style, theme, upload limit, auth."""
    import gradio as gr

    options: dict[str, Any] = {
        "css": (Path(__file__).parent / "style.css").read_text(encoding="utf-8"),
        "theme": gr.themes.Soft(
            primary_hue="indigo",
            neutral_hue="slate",
            font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],
            font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
        ),
        "ssr_mode": False,
        # errors reach the client as one line only when raised on purpose (gr.Error); anything
        # else (a malformed call, Gradio's own path checks) shows no exception text or path
        "show_error": False,
        "enable_monitoring": False,
        "footer_links": ["api"],
        "run_history": False,
    }
    if settings is not None:
        options.update(
            server_name=settings.host,
            server_port=settings.port,
            auth=settings.auth,
            max_file_size=settings.max_file_bytes,
        )
        if settings.auth:
            from starlette.middleware import Middleware

            from ui.guard import LoginPageFilter, LoginThrottle

            options["app_kwargs"] = {"middleware": [Middleware(LoginThrottle), Middleware(LoginPageFilter)]}
    return options


def is_local(host: str) -> bool:
    """True for loopback addresses (127.0.0.0/8, ::1) and ``localhost``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Any) -> str:
    """The start-up line saying who can reach the window; refuses a non-local bind without auth
    and weak credentials anywhere (``ui.guard.check_credentials``)."""
    url = f"http://{settings.host}:{settings.port}"
    check_credentials(settings.auth)
    if is_local(settings.host):
        lock = f", password protected (user {settings.auth[0]})" if settings.auth else ""
        return f"Chat window on {url} — this machine only{lock}. Ctrl-C to stop."
    if not settings.auth:
        raise AssistantError(
            f"refusing to serve on {settings.host} without a password: set ASSISTANT_AUTH_USER and "
            "ASSISTANT_AUTH_PASSWORD, or bind to 127.0.0.1"
        )
    return f"Chat window on {url} — reachable from the network, password protected (user {settings.auth[0]}). Ctrl-C to stop."


def serve(assistant: Any, settings: Any) -> None:
    """Launch the window for ``assistant`` as ``settings`` say (blocks until Ctrl-C)."""
    import click

    message = check_bind(settings)
    app = build_app(assistant)
    click.echo(message, err=True)
    app.launch(quiet=True, **launch_options(settings))
