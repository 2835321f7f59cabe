"""Adding article files from outside (the chat window's upload): saved into the corpus folder,
then indexed incrementally with ``Assistant.index``.

``save_article`` is the one place that writes an uploaded file. Its rules:

- The name is a base name. One that names a folder (``../../x.md``, ``a/b.md``, ``C:\\x.md``)
  is refused, never flattened; the rest is sanitised to letters, digits, ``.``, ``-`` and ``_``
  (no leading dot, so never a hidden file) and must end in a supported article type.
- At most ``max_bytes``; the bytes must parse as an article (binary, non-UTF-8, empty or
  textless files are refused with the loader's own message).
- Nothing is overwritten: an article whose text is already in the collection is reported as
  such; a new text whose name is taken is saved under the next free name (``name-2.md``).
- The target resolves inside the corpus folder, and the write is atomic (a hidden temporary
  file, then a hard link that fails if the name exists), so the indexer never reads half a file.

Refusals are ``UploadOutcome``s with a one-line message, never exceptions: one bad file does
not stop the others, and the index stays as it was for refused files.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import ArticleError, AssistantError
from corpus.loaders import SUPPORTED_SUFFIXES, article_from_bytes, load_corpus
from index.indexer import IndexReport

if TYPE_CHECKING:
    from assistant.core import Assistant

__all__ = ["UploadOutcome", "UploadReport", "safe_name", "read_upload", "save_article", "add_articles"]

Progress = Callable[[float, str], None]

_UNSAFE = re.compile(r"[^\w.-]+")
_MAX_STEM = 100


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one file: ``saved_as`` is its corpus-relative name, None if not saved."""

    name: str
    message: str
    saved_as: str | None = None

    @property
    def ok(self) -> bool:
        return self.saved_as is not None


@dataclass(frozen=True)
class UploadReport:
    """Every file's outcome, and the indexing run (None when nothing new was saved)."""

    outcomes: tuple[UploadOutcome, ...]
    index: IndexReport | None = None
    error: str | None = None

    @property
    def saved(self) -> tuple[str, ...]:
        return tuple(o.saved_as for o in self.outcomes if o.saved_as)

    @property
    def refused(self) -> tuple[UploadOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)


def _shown(name: str) -> str:
    """A user-supplied name made safe to echo on one line."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(name))
    return text if len(text) <= 80 else text[:77] + "..."


def safe_name(name: str) -> str:
    """The sanitised base name to save ``name`` under. Raises ``ArticleError`` to refuse it."""
    raw = str(name or "")
    if not raw.strip():
        raise ArticleError("a file without a name; refused")
    if "/" in raw or "\\" in raw or "\x00" in raw or raw.strip() in (".", "..") or re.match(r"^[A-Za-z]:", raw):
        raise ArticleError(f"{_shown(raw)}: a file name must not contain a folder path; refused")
    stem, suffix = os.path.splitext(raw.strip())
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleError(
            f"{_shown(raw)}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    stem = _UNSAFE.sub("-", unicodedata.normalize("NFKC", stem)).strip(".-_")[:_MAX_STEM].strip(".-_")
    return (stem or "article") + suffix


def read_upload(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """An uploaded file's bytes; refuses (``ArticleError``) one over ``max_bytes``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(f"{_shown(path.name)}: {size:,} bytes is over the {max_bytes:,}-byte limit; refused")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ArticleError(f"{_shown(path.name)}: cannot be read ({exc.strerror or exc.__class__.__name__}); refused") from None
    if len(data) > max_bytes:
        raise ArticleError(f"{_shown(path.name)}: over the {max_bytes:,}-byte limit; refused")
    return data


def _candidates(name: str) -> Iterable[str]:
    stem, suffix = os.path.splitext(name)
    yield name
    for i in range(2, 1000):
        yield f"{stem}-{i}{suffix}"


def _write_new(folder: Path, name: str, data: bytes) -> str:
    """Write ``data`` under ``name`` or the next free variant, atomically; the name used."""
    root = folder.resolve()
    tmp = root / f".upload-{secrets.token_hex(8)}.part"
    with tmp.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        for candidate in _candidates(name):
            target = root / candidate
            if target.parent != root or candidate in (".", ".."):
                raise ArticleError(f"{_shown(name)}: would be written outside the corpus folder; refused")
            if os.path.lexists(target):  # taken, even by a dangling symlink: never follow or replace
                continue
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError:  # a file system without hard links: exclusive create instead
                try:
                    with target.open("xb") as out:
                        out.write(data)
                except FileExistsError:
                    continue
            return candidate
        raise ArticleError(f"{_shown(name)}: too many files with this name already; rename it")
    finally:
        tmp.unlink(missing_ok=True)


def save_article(
    data: bytes, name: str, corpus_dir: str | os.PathLike[str], max_bytes: int, known_texts: dict[str, str] | None = None
) -> UploadOutcome:
    """Validate one uploaded file and save it into ``corpus_dir`` (see the module rules).

    ``known_texts`` maps article text to source for what the corpus already holds; a match is
    refused as a duplicate (and the new text is added to it).
    """
    try:
        clean = safe_name(name)
        if len(data) > max_bytes:
            raise ArticleError(f"{_shown(name)}: {len(data):,} bytes is over the {max_bytes:,}-byte limit; refused")
        article = article_from_bytes(data, clean)
        key = article.text.strip()
        if known_texts is not None and key in known_texts:
            return UploadOutcome(name, f"{_shown(name)}: same text as {known_texts[key]}, already in the collection; not added")
        folder = Path(corpus_dir)
        if not folder.is_dir():
            raise ArticleError(f"the corpus folder {folder} does not exist; nothing saved")
        saved = _write_new(folder, clean, data)
    except ArticleError as exc:
        message = str(exc).replace("; skipped", "; refused")
        return UploadOutcome(name, message)
    except OSError as exc:
        return UploadOutcome(name, f"{_shown(name)}: could not be saved ({exc.strerror or exc.__class__.__name__}); refused")
    if known_texts is not None:
        known_texts[key] = saved
    note = "" if saved == clean else f" ({clean} already exists with other text)"
    return UploadOutcome(name, f"{_shown(name)}: saved as {saved}{note}", saved_as=saved)


def add_articles(
    assistant: Assistant,
    files: Iterable[tuple[str, str | os.PathLike[str] | bytes]],
    progress: Progress | None = None,
    lock_timeout: float = 60,
) -> UploadReport:
    """Save ``(name, path or bytes)`` files into the corpus folder, then index what is new.

    Never raises for a bad file; an indexing failure (e.g. another run holds the lock) is
    reported in ``error`` and the saved files are indexed by the next run.
    """
    settings = assistant.settings
    files = list(files)
    report = progress or (lambda fraction, text: None)
    report(0.0, f"Checking {len(files)} file{'s' if len(files) != 1 else ''}")
    try:
        known = {a.text.strip(): a.source for a in load_corpus(settings.corpus_dir, settings.max_file_bytes).articles}
    except AssistantError as exc:
        return UploadReport(tuple(UploadOutcome(str(n), f"{_shown(str(n))}: not saved") for n, _ in files), error=str(exc))
    outcomes = []
    for i, (name, content) in enumerate(files):
        report(0.1 * i / max(len(files), 1), f"Saving {_shown(name)}")
        if isinstance(content, bytes):
            data = content
        else:
            try:
                data = read_upload(content, settings.max_file_bytes)
            except ArticleError as exc:
                outcomes.append(UploadOutcome(name, str(exc)))
                continue
        outcomes.append(save_article(data, name, settings.corpus_dir, settings.max_file_bytes, known))
    if not any(o.ok for o in outcomes):
        return UploadReport(tuple(outcomes))

    def embedding(done: int, total: int) -> None:
        report(0.1 + 0.9 * done / max(total, 1), f"Indexing: {done}/{total} passages embedded")

    report(0.1, "Indexing")
    try:
        index_report = assistant.index(progress=embedding, lock_timeout=lock_timeout)
    except AssistantError as exc:
        return UploadReport(tuple(outcomes), error=f"saved, but not indexed yet: {exc}")
    report(1.0, "Done")
    return UploadReport(tuple(outcomes), index=index_report)
