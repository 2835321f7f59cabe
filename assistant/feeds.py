"""Following RSS/Atom feeds: new entries become articles (``assistant.web_articles``).

The followed feeds and the entries already taken live in ``<data_dir>/feeds.json``
(``{"feeds": [{"url", "title", "added"}], "seen": {feed url: [entry id or link, ...]}}``),
written atomically (a temporary file, then a rename) under a file lock, so a sync from cron
and one from the watch loop never interleave.

``sync_feeds`` fetches every feed (through ``assistant.fetch``, never by ``feedparser``, which
only parses bytes), takes each entry not seen before by id or link, saves and indexes all new
articles in one run, and records the entries taken. An entry whose page was fetched is
recorded whatever became of it (saved, or the same text as an article already there); one
whose page could not be fetched is reported and tried again next time. A feed that fails is
reported and the others go on.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin
from typing import TYPE_CHECKING

from assistant.fetch import FEED_TYPES, FetchPolicy, check_url, fetch
from assistant.web_articles import Taken, add_taken, take_article
from corpus.errors import ArticleError, AssistantError
from corpus.web import ARTICLE_TYPES
from index.indexer import IndexReport
from index.locking import exclusive_file

if TYPE_CHECKING:
    from assistant.core import Assistant

__all__ = ["Feed", "FeedEntry", "FeedResult", "SyncReport", "FeedStore", "parse_feed", "add_feed", "sync_feeds"]

Progress = Callable[[float, str], None]
MAX_SEEN = 5000  # remembered entries per feed (far more than a feed lists at once)


@dataclass(frozen=True)
class Feed:
    url: str
    title: str | None = None
    added: str | None = None


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a parsed feed: its keys (id and link) and what the article falls back to."""

    link: str | None
    keys: tuple[str, ...]
    title: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: tuple[FeedEntry, ...]


@dataclass(frozen=True)
class FeedResult:
    """What one sync did with one feed; ``error`` is set when the feed itself failed."""

    url: str
    title: str | None = None
    saved: tuple[str, ...] = ()
    seen: int = 0
    problems: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class SyncReport:
    feeds: tuple[FeedResult, ...]
    index: IndexReport | None = None
    error: str | None = None

    @property
    def saved(self) -> tuple[str, ...]:
        return tuple(s for f in self.feeds for s in f.saved)

    @property
    def failed(self) -> bool:
        return any(f.error for f in self.feeds)

    def lines(self) -> list[str]:
        out = []
        for f in self.feeds:
            name = f.title or f.url
            if f.error:
                out.append(f"{name}: failed: {f.error}")
                continue
            out.append(f"{name}: {len(f.saved)} new article{'s' if len(f.saved) != 1 else ''}, {f.seen} already taken")
            out += [f"  saved {s}" for s in f.saved] + [f"  {p}" for p in f.problems]
        if self.error:
            out.append(self.error)
        elif self.index is not None:
            out.append(self.index.summary())
        return out


def parse_feed(data: bytes, url: str) -> ParsedFeed:
    """The entries of an RSS/Atom document. Pure; raises ``ArticleError`` when it is no feed."""
    import feedparser

    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=False, response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        raise ArticleError(f"{url}: not an RSS or Atom feed; nothing added")
    entries = []
    for e in parsed.entries:
        link = urljoin(url, e["link"].strip()) if isinstance(e.get("link"), str) and e["link"].strip() else None
        keys = tuple(dict.fromkeys(k.strip() for k in (e.get("id"), link) if isinstance(k, str) and k.strip()))
        if not keys:
            continue
        stamp = e.get("published_parsed") or e.get("updated_parsed")
        date = time.strftime("%Y-%m-%d", stamp) if stamp else None
        entries.append(FeedEntry(link=link, keys=keys, title=e.get("title") or None, date=date))
    title = " ".join(str(parsed.feed.get("title") or "").split())[:200] or None
    return ParsedFeed(title, tuple(entries))


def _policy(policy: FetchPolicy) -> FetchPolicy:
    from dataclasses import replace

    return replace(policy, accept=tuple(dict.fromkeys(FEED_TYPES + ARTICLE_TYPES)))


@dataclass
class _State:
    feeds: list[Feed] = field(default_factory=list)
    seen: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedStore:
    """``<data_dir>/feeds.json`` and its lock."""

    path: Path
    lock_timeout: float = 60.0

    @classmethod
    def of(cls, data_dir: str | os.PathLike[str]) -> FeedStore:
        return cls(Path(data_dir) / "feeds.json")

    def _load(self) -> _State:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _State()
        except (OSError, ValueError) as exc:
            raise AssistantError(f"{self.path.name} cannot be read ({exc.__class__.__name__}); fix or remove it") from None
        feeds = [Feed(str(f["url"]), f.get("title"), f.get("added")) for f in raw.get("feeds", []) if isinstance(f, dict) and f.get("url")]
        seen = {str(k): [str(x) for x in v] for k, v in dict(raw.get("seen", {})).items() if isinstance(v, list)}
        return _State(feeds, seen)

    def _save(self, state: _State) -> None:
        data = {
            "feeds": [{"url": f.url, "title": f.title, "added": f.added} for f in state.feeds],
            "seen": {k: v[-MAX_SEEN:] for k, v in state.seen.items()},
        }
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    @contextmanager
    def locked(self) -> Iterator[_State]:
        """The state, under the lock; saved on a normal exit."""
        busy = AssistantError("another feed sync is running; try again later")
        with exclusive_file(self.path.with_name(self.path.name + ".lock"), self.lock_timeout, busy):
            state = self._load()
            yield state
            self._save(state)

    def feeds(self) -> list[Feed]:
        return self._load().feeds


def add_feed(store: FeedStore, url: str, policy: FetchPolicy) -> tuple[Feed, int]:
    """Follow the feed at ``url`` (fetched and parsed now, to refuse what is no feed); the feed
    and its number of entries. Raises ``ArticleError`` / ``AssistantError`` (one line)."""
    url = check_url(url)
    with store.locked() as state:
        if any(f.url == url for f in state.feeds):
            raise AssistantError(f"{url}: already followed")
        page = fetch(url, _policy(policy))
        parsed = parse_feed(page.data, url)
        feed = Feed(url, parsed.title, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        state.feeds.append(feed)
        state.seen.setdefault(url, [])
    return feed, len(parsed.entries)


def remove_feed(store: FeedStore, url: str) -> Feed:
    with store.locked() as state:
        for f in state.feeds:
            if f.url == url.strip():
                state.feeds.remove(f)
                state.seen.pop(f.url, None)
                return f
    raise AssistantError(f"{url}: not a followed feed (see `assistant feeds list`)")


def sync_feeds(
    assistant: Assistant,
    store: FeedStore | None = None,
    policy: FetchPolicy | None = None,
    max_entries: int = 50,
    progress: Progress | None = None,
) -> SyncReport:
    """Take every new entry of every followed feed (at most ``max_entries`` a feed a run)."""
    from dataclasses import replace

    from assistant.web_articles import policy_for

    store = store or FeedStore.of(assistant.settings.data_dir)
    policy = policy or policy_for(assistant)
    report = progress or (lambda fraction, text: None)
    with store.locked() as state:
        results: list[FeedResult] = []
        taken: list[Taken] = []
        owners: list[tuple[int, FeedEntry]] = []  # (feed result index, entry) per taken article
        for n, feed in enumerate(state.feeds):
            report(0.3 * n / max(len(state.feeds), 1), f"Reading {feed.title or feed.url}")
            try:
                parsed = parse_feed(fetch(feed.url, _policy(policy)).data, feed.url)
            except ArticleError as exc:
                results.append(FeedResult(feed.url, feed.title, error=" ".join(str(exc).split())))
                continue
            seen = set(state.seen.get(feed.url, []))
            fresh = [e for e in parsed.entries if not seen.intersection(e.keys)]
            problems = []
            for entry in fresh[:max_entries]:
                if not entry.link:
                    problems.append(f"{entry.title or entry.keys[0]}: the entry has no link; skipped")
                    continue
                taken.append(take_article(entry.link, policy, title=entry.title, date=entry.date))
                owners.append((len(results), entry))
            results.append(FeedResult(feed.url, parsed.title or feed.title, seen=len(parsed.entries) - len(fresh), problems=tuple(problems)))
        added = add_taken(assistant, taken, progress=progress) if taken else None
        for (i, entry), took, outcome in zip(owners, taken, added.outcomes if added else ()):
            result = results[i]
            if took.article is None:
                results[i] = replace(result, problems=result.problems + (outcome.message,))
                continue
            state.seen.setdefault(result.url, []).extend(entry.keys)
            if outcome.ok:
                results[i] = replace(result, saved=result.saved + (str(outcome.saved_as),))
            else:
                results[i] = replace(result, problems=result.problems + (outcome.message,))
    return SyncReport(tuple(results), added.index if added else None, added.error if added else None)
