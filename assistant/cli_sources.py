"""Commands for articles that arrive on their own: ``assistant add URL…``, ``assistant feeds
add|list|remove|sync`` and the loop behind ``assistant index --watch``. Registered on the
``assistant`` group by ``assistant.cli``; errors are ``AssistantError``s that ``cli.main``
turns into one line."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import click

from assistant.cli import _assistant, _common
from assistant.settings import Settings
from corpus.errors import AssistantError

__all__ = ["add_cmd", "feeds_group", "run_watch", "echo_event"]


def _private_option(fn: Any) -> Any:
    return click.option(
        "--allow-private",
        is_flag=True,
        help="Also fetch from private, loopback and link-local addresses (refused by default).",
    )(fn)


@click.command("add")
@_common
@click.argument("urls", nargs=-1, required=True)
@_private_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
def add_cmd(settings: Settings, urls: tuple[str, ...], allow_private: bool, as_json: bool) -> None:
    """Fetch web pages (or PDF / text files) by URL, save them as articles and index them."""
    from assistant.web_articles import add_urls

    report = add_urls(_assistant(settings), list(urls), allow_private=allow_private)
    if as_json:
        click.echo(json.dumps({
            "outcomes": [{"url": o.name, "saved_as": o.saved_as, "message": o.message} for o in report.outcomes],
            "embedded": report.index.embedded if report.index else 0,
            "error": report.error,
        }, ensure_ascii=False))
    else:
        for o in report.outcomes:
            click.echo(o.message) if o.ok else click.echo(f"error: {o.message}", err=True)
        if report.index is not None:
            click.echo(report.index.summary())
    if report.error:
        click.echo(f"error: {report.error}", err=True)
    if report.refused or report.error:
        sys.exit(1)


@click.group("feeds")
def feeds_group() -> None:
    """Follow RSS/Atom feeds: their new entries become articles (`feeds sync`, e.g. from cron)."""


@feeds_group.command("add")
@_common
@click.argument("url")
@_private_option
def feeds_add_cmd(settings: Settings, url: str, allow_private: bool) -> None:
    """Follow the feed at URL (read now to check it is one; `feeds sync` takes its entries)."""
    from assistant.feeds import FeedStore, add_feed
    from assistant.fetch import FetchPolicy

    feed, entries = add_feed(FeedStore.of(settings.data_dir), url, FetchPolicy(allow_private=allow_private, max_bytes=settings.max_file_bytes))
    click.echo(f"following {feed.title or feed.url} ({entries} entries); `assistant feeds sync` takes them")


@feeds_group.command("list")
@_common
def feeds_list_cmd(settings: Settings) -> None:
    """The followed feeds."""
    from assistant.feeds import FeedStore

    feeds = FeedStore.of(settings.data_dir).feeds()
    if not feeds:
        click.echo("no feeds followed; add one with `assistant feeds add URL`")
    for f in feeds:
        click.echo(f"{f.url}  {f.title or ''}".rstrip())


@feeds_group.command("remove")
@_common
@click.argument("url")
def feeds_remove_cmd(settings: Settings, url: str) -> None:
    """Stop following the feed at URL (its articles stay)."""
    from assistant.feeds import FeedStore, remove_feed

    feed = remove_feed(FeedStore.of(settings.data_dir), url)
    click.echo(f"no longer following {feed.title or feed.url}")


@feeds_group.command("sync")
@_common
@_private_option
@click.option("--max-entries", type=int, default=50, show_default=True, help="New entries taken per feed and run.")
def feeds_sync_cmd(settings: Settings, allow_private: bool, max_entries: int) -> None:
    """Take the new entries of every followed feed as articles and index them."""
    from assistant.feeds import FeedStore, sync_feeds
    from assistant.web_articles import policy_for

    store = FeedStore.of(settings.data_dir)
    if not store.feeds():
        raise AssistantError("no feeds followed; add one with `assistant feeds add URL`")
    assistant = _assistant(settings)
    report = sync_feeds(assistant, store, policy_for(assistant, allow_private), max_entries=max_entries)
    for line in report.lines():
        click.echo(line)
    if report.failed or report.error:
        sys.exit(1)


def echo_event(event: Any) -> None:
    """One line per watch event on stderr (the UI's log, the terminal of `index --watch`)."""
    when = __import__("time").strftime("%H:%M:%S")
    what = f"{event.changes} change{'s' if event.changes != 1 else ''}: " if event.changes else ""
    click.echo(f"[{when}] {what}{event.message}", err=event.kind == "error")


def run_watch(settings: Settings, assistant: Any, quiet: float, feeds_every: float | None) -> None:
    """``assistant index --watch``: watch until Ctrl-C."""
    from assistant.watch import WatchOptions, watch_corpus

    options = WatchOptions(quiet_ms=max(50, int(quiet * 1000)), feeds_every_s=feeds_every * 60 if feeds_every else None)
    click.echo(f"watching {settings.corpus_dir} (Ctrl-C to stop)", err=True)
    stop = threading.Event()
    try:
        watch_corpus(assistant, options, stop, echo_event)
    except KeyboardInterrupt:
        stop.set()
        click.echo("stopped watching", err=True)


def start_watch_thread(assistant: Any, quiet: float = 1.0) -> threading.Event:
    """Watch in a daemon thread (``assistant ui --watch``); set the returned event to stop."""
    from assistant.watch import WatchOptions, watch_corpus

    stop = threading.Event()
    thread = threading.Thread(
        target=watch_corpus, args=(assistant, WatchOptions(quiet_ms=int(quiet * 1000)), stop, echo_event), name="corpus-watch", daemon=True
    )
    thread.start()
    return stop
