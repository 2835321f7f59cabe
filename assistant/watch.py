"""Watching the corpus folder: articles added, changed or deleted are indexed on their own.

``watch_corpus`` indexes once as soon as its watcher is up (catching up with what changed
while nobody watched), then waits on ``watchfiles`` (operating-system notifications, not a polling loop) for changes to article
files. A burst of changes is one run: changes are collected until ``quiet_ms`` pass without
another (at most ``max_wait_ms``), then the changed files must *settle* (size and modification
time unchanged for ``settle_s``) so a file still being written is not read half-way, and
``Assistant.index`` runs once, incrementally: only new and changed articles are embedded.
Changes during a run are collected by the watcher and make the next run.

A run that fails (the index lock held too long by another writer, an unreadable corpus) is
reported and watching goes on. ``stop_event`` ends the watch between runs; a run killed half-way
leaves the last committed index (the indexer's crash guarantees). With ``feeds_every_s`` the
loop also syncs the followed feeds (``assistant.feeds``) that often.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.errors import AssistantError
from corpus.loaders import SUPPORTED_SUFFIXES
from index.indexer import IndexReport

if TYPE_CHECKING:
    from assistant.core import Assistant

__all__ = ["WatchOptions", "WatchEvent", "watch_corpus", "is_watched", "wait_until_settled"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchOptions:
    quiet_ms: int = 1000  # a burst of changes ends after this long without another
    max_wait_ms: int = 10_000  # ... or after this long in all
    settle_s: float = 0.5  # a changed file is read once unchanged for this long
    settle_timeout_s: float = 60.0  # a file still changing after this long is read anyway (and again later)
    lock_timeout_s: float = 120.0  # wait this long for another writer of the index
    feeds_every_s: float | None = None  # also sync the followed feeds this often
    initial: bool = True  # index once at the start


@dataclass(frozen=True)
class WatchEvent:
    """One thing the watch did: ``kind`` is ``indexed``, ``error`` or ``feeds``."""

    kind: str
    message: str
    changes: int = 0
    report: IndexReport | None = None


def is_watched(root: Path, path: str, ignore: Iterable[Path] = ()) -> bool:
    """Does a change at ``path`` concern the articles under ``root``? Article files and folders
    (a folder moved in or out), not hidden or ``_`` folders, temporary files or ``ignore``."""
    p = Path(path)
    try:
        parts = p.relative_to(root).parts
    except ValueError:
        return False
    if not parts or any(part.startswith((".", "_")) for part in parts[:-1]) or parts[-1].startswith("."):
        return False
    if any(p == i or i in p.parents for i in ignore):
        return False
    if p.suffix.lower() in SUPPORTED_SUFFIXES:
        return True
    return p.is_dir() or (not p.exists() and not p.suffix)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def wait_until_settled(paths: Iterable[Path], settle_s: float, timeout_s: float, stop_event: Any = None) -> bool:
    """Wait until none of ``paths`` changed size or modification time for ``settle_s``;
    False when ``timeout_s`` passed first (or ``stop_event`` was set)."""
    files = [p for p in paths if p.suffix.lower() in SUPPORTED_SUFFIXES]
    if not files:
        return True
    deadline = time.monotonic() + timeout_s
    before = {p: _stamp(p) for p in files}
    while True:
        if stop_event is not None and stop_event.wait(settle_s):
            return False
        if stop_event is None:
            time.sleep(settle_s)
        now = {p: _stamp(p) for p in files}
        if now == before:
            return True
        if time.monotonic() > deadline:
            return False
        before = now


def _index(assistant: Assistant, options: WatchOptions, changes: int) -> WatchEvent:
    try:
        report = assistant.index(lock_timeout=options.lock_timeout_s)
    except AssistantError as exc:
        return WatchEvent("error", f"not indexed: {' '.join(str(exc).split())}", changes)
    except Exception as exc:  # noqa: BLE001 - one failed run must not end the watch
        log.exception("indexing after %d changes failed", changes)
        return WatchEvent("error", f"not indexed: {exc.__class__.__name__}; see the log", changes)
    return WatchEvent("indexed", report.summary(), changes, report)


def _sync_feeds(assistant: Assistant) -> WatchEvent:
    from assistant.feeds import sync_feeds

    try:
        result = sync_feeds(assistant)
    except AssistantError as exc:
        return WatchEvent("error", f"feeds not synced: {' '.join(str(exc).split())}")
    return WatchEvent("feeds", "; ".join(result.lines()) or "no feeds followed", len(result.saved), result.index)


def watch_corpus(
    assistant: Assistant,
    options: WatchOptions | None = None,
    stop_event: threading.Event | None = None,
    on_event: Callable[[WatchEvent], None] | None = None,
) -> None:
    """Keep the index in step with the corpus folder until ``stop_event`` is set (or Ctrl-C)."""
    import watchfiles

    options = options or WatchOptions()
    emit = on_event or (lambda event: None)
    stop = stop_event or threading.Event()
    root = Path(assistant.settings.corpus_dir).resolve()
    if not root.is_dir():
        raise AssistantError(f"corpus folder {assistant.settings.corpus_dir} does not exist or is not a folder")
    ignore = [Path(assistant.settings.data_dir).resolve()]
    next_feeds = time.monotonic() if options.feeds_every_s else float("inf")
    indexed: dict[Path, tuple[int, int] | None] = {}  # what the last run read of the paths it was run for
    catch_up = options.initial  # the first run, once the watcher is up (nothing changed meanwhile is lost)
    batches = watchfiles.watch(
        root,
        watch_filter=lambda change, path: is_watched(root, path, ignore),
        debounce=max(options.max_wait_ms, options.quiet_ms),
        step=options.quiet_ms,
        stop_event=stop,
        rust_timeout=1000,
        yield_on_timeout=True,
        recursive=True,
    )
    for changes in batches:
        if stop.is_set():
            return
        paths = {Path(p) for _, p in changes}
        if paths and all(p in indexed and _stamp(p) == indexed[p] for p in paths):
            paths = set()  # changes seen while the files settled: the last run read them already
        if paths or catch_up:
            wait_until_settled(paths, options.settle_s, options.settle_timeout_s, stop)
            if stop.is_set():
                return
            catch_up = False
            indexed = {p: _stamp(p) for p in paths}
            emit(_index(assistant, options, len(paths)))
        if time.monotonic() >= next_feeds:
            emit(_sync_feeds(assistant))
            next_feeds = time.monotonic() + float(options.feeds_every_s or 0)
