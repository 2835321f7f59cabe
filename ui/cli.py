"""``assistant ui``: added to the ``assistant`` command through the ``assistant.commands``
entry point, so the CLI in ``assistant`` never imports the UI layer."""

from __future__ import annotations

import click

from assistant.cli import _assistant, _common, _engine
from assistant.settings import Settings

__all__ = ["ui_cmd"]


@click.command("ui")
@_common
@_engine
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
@click.option("--watch", is_flag=True, help="Watch the corpus folder and re-index after changes (as `index --watch`).")
def ui_cmd(settings: Settings, host: str | None, port: int | None, watch: bool = False) -> None:
    """Serve the chat window in the browser.

    Binds 127.0.0.1 unless --host says otherwise; any other address needs a password
    (env ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD).
    """
    from ui.app import check_bind, serve

    settings = settings.with_(host=host, port=port)
    check_bind(settings)  # refuse an unprotected network bind before loading anything
    assistant = _assistant(settings)
    if not watch:
        serve(assistant, settings)
        return
    from assistant.cli_sources import start_watch_thread

    stop = start_watch_thread(assistant)  # the window's status line follows its re-indexes
    try:
        serve(assistant, settings)
    finally:
        stop.set()
