"""Adding articles by URL: fetch (``assistant.fetch``), extract (``corpus.web``), then save and
index them exactly as uploads are (``assistant.uploads.add_articles``: same naming, duplicate
and atomic-write rules).

Every URL gets one ``UploadOutcome`` named by the URL, in the order given; a URL that cannot be
fetched or holds no article writes nothing. Never raises for a bad URL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.fetch import FetchPolicy, fetch
from assistant.uploads import UploadOutcome, UploadReport, add_articles
from corpus.errors import ArticleError
from corpus.web import WebArticle, web_article

if TYPE_CHECKING:
    from assistant.core import Assistant

__all__ = ["Taken", "take_article", "add_taken", "add_urls", "policy_for"]

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    """A URL turned into an article file (``article``), or the one-line reason it was not."""

    url: str
    article: WebArticle | None = None
    error: str | None = None


def policy_for(assistant: Assistant, allow_private: bool = False) -> FetchPolicy:
    """The fetch policy for ``assistant``'s corpus: its size limit, private addresses as asked."""
    return FetchPolicy(allow_private=allow_private, max_bytes=assistant.settings.max_file_bytes)


def take_article(url: str, policy: FetchPolicy, title: str | None = None, date: str | None = None) -> Taken:
    """Fetch ``url`` and extract its article; never raises."""
    try:
        page = fetch(url, policy)
        return Taken(url, web_article(page.data, page.url, page.content_type, title=title, date=date))
    except ArticleError as exc:
        return Taken(url, error=" ".join(str(exc).split()))
    except Exception:  # noqa: BLE001 - an extractor bug is this URL's verdict, not the batch's
        log.exception("taking an article from %r failed", url[:200])
        return Taken(url, error=f"{url[:120]}: could not be processed; nothing saved")


def _as_url_outcome(url: str, outcome: UploadOutcome) -> UploadOutcome:
    message = outcome.message
    prefix = f"{outcome.name}: "
    if message.startswith(prefix):
        message = message[len(prefix):]
    return replace(outcome, name=url, message=f"{url[:120]}: {message}")


def add_taken(assistant: Assistant, taken: Sequence[Taken], progress: Progress | None = None) -> UploadReport:
    """Save the articles in ``taken`` and index them (one run); outcomes in ``taken``'s order."""
    files = [(t.article.file_name(), t.article.markdown().encode("utf-8")) for t in taken if t.article is not None]
    report = add_articles(assistant, files, progress=progress) if files else UploadReport(())
    saved = iter(report.outcomes)
    outcomes = [
        UploadOutcome(t.url, t.error or "nothing saved") if t.article is None else _as_url_outcome(t.url, next(saved))
        for t in taken
    ]
    return replace(report, outcomes=tuple(outcomes))


def add_urls(
    assistant: Assistant,
    urls: Sequence[str],
    allow_private: bool = False,
    progress: Progress | None = None,
    policy: FetchPolicy | None = None,
) -> UploadReport:
    """Fetch each URL, save its article into the corpus folder and index what is new."""
    policy = policy or policy_for(assistant, allow_private)
    report = progress or (lambda fraction, text: None)
    taken = []
    for i, url in enumerate(urls):
        report(0.3 * i / max(len(urls), 1), f"Fetching {url[:80]}")
        taken.append(take_article(url, policy))
    return add_taken(assistant, taken, progress=progress)
