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
- The duplicate check reads stored content hashes (``TextHashes``: the hash of each corpus
  file's article text, kept beside the index and re-computed only for files whose size or
  modification time changed), never a re-parse of the corpus; check and save happen under one
  lock (a thread lock and an ``flock`` on a file), so concurrent uploads of one text save one.
- The target resolves inside the corpus folder, and the write is atomic (a hidden temporary
  file, then a hard link that fails if the name exists), so the indexer never reads half a file.

Refusals are ``UploadOutcome``s with a one-line message, never exceptions: one bad file does
not stop the others (even an unexpected parser failure becomes that file's verdict), and the
index stays as it was for refused files.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import ArticleError, AssistantError
from corpus.loaders import SUPPORTED_SUFFIXES, article_from_bytes, iter_article_files, load_article
from corpus.models import content_hash
from index.indexer import IndexReport
from index.locking import exclusive_file

if TYPE_CHECKING:
    from assistant.core import Assistant

__all__ = ["UploadOutcome", "UploadReport", "TextHashes", "safe_name", "read_upload", "save_article", "add_articles"]

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)
_SAVE_LOCK = threading.Lock()  # one save at a time in this process; flock orders processes

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


def text_hash(text: str) -> str:
    """The duplicate key of an article: the hash of its text (metadata aside)."""
    return content_hash(text.strip())


@dataclass
class _Known:
    """Inside a ``TextHashes.session``: text hash -> source, and what this session added."""

    by_hash: dict[str, str]
    added: dict[str, str] = field(default_factory=dict)  # source -> hash

    def source_of(self, digest: str) -> str | None:
        return self.by_hash.get(digest)

    def add(self, source: str, digest: str) -> None:
        self.by_hash.setdefault(digest, source)
        self.added[source] = digest


@dataclass(frozen=True)
class TextHashes:
    """Stored text hashes of the articles in ``corpus_dir`` (a JSON file at ``path``:
    ``source -> [size, mtime_ns, hash]``). A ``session`` holds the save lock, brings the file up
    to date (parsing only new or changed files) and records what the session saved."""

    corpus_dir: Path
    path: Path
    max_bytes: int
    lock_timeout: float = 30.0

    def _load(self) -> dict[str, list]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, list) and len(v) == 3} if isinstance(data, dict) else {}

    def _refresh(self, entries: dict[str, list]) -> dict[str, list]:
        root = Path(self.corpus_dir)
        fresh: dict[str, list] = {}
        for path in iter_article_files(root):
            source = path.relative_to(root).as_posix()
            try:
                st = path.stat()
            except OSError:
                continue
            old = entries.get(source)
            if old and old[0] == st.st_size and old[1] == st.st_mtime_ns:
                fresh[source] = old
                continue
            try:
                digest = text_hash(load_article(path, root, self.max_bytes).text)
            except Exception:  # noqa: BLE001 - an unusable corpus file holds no text to match
                digest = ""
            fresh[source] = [st.st_size, st.st_mtime_ns, digest]
        return fresh

    def _save(self, entries: dict[str, list]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            tmp.write_text(json.dumps(entries), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)  # only a cache: the next session re-computes

    @contextmanager
    def _locked(self) -> Iterator[None]:
        deadline = time.monotonic() + self.lock_timeout
        if not _SAVE_LOCK.acquire(timeout=self.lock_timeout):
            raise ArticleError("another upload is still being saved; try again in a moment")
        try:
            busy = ArticleError("another upload is still being saved; try again in a moment")
            with exclusive_file(self.path.with_name(self.path.name + ".lock"), max(0.0, deadline - time.monotonic()), busy):
                yield
        finally:
            _SAVE_LOCK.release()

    @contextmanager
    def session(self) -> Iterator[_Known]:
        with self._locked():
            entries = self._refresh(self._load())
            known = _Known({e[2]: s for s, e in sorted(entries.items()) if e[2]})
            try:
                yield known
            finally:
                for source, digest in known.added.items():
                    try:
                        st = (Path(self.corpus_dir) / source).stat()
                    except OSError:
                        continue
                    entries[source] = [st.st_size, st.st_mtime_ns, digest]
                self._save(entries)


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
    data: bytes, name: str, corpus_dir: str | os.PathLike[str], max_bytes: int, hashes: TextHashes | None = None
) -> UploadOutcome:
    """Validate one uploaded file and save it into ``corpus_dir`` (see the module rules).

    With ``hashes``, a text the corpus already holds is refused as a duplicate; the check and
    the write happen in one locked session. Never raises.
    """
    try:
        clean = safe_name(name)
        if len(data) > max_bytes:
            raise ArticleError(f"{_shown(name)}: {len(data):,} bytes is over the {max_bytes:,}-byte limit; refused")
        article = article_from_bytes(data, clean)  # parsing (under its budgets) before taking the lock
        folder = Path(corpus_dir)
        if not folder.is_dir():
            raise ArticleError("the corpus folder does not exist; nothing saved")
        digest = text_hash(article.text)
        if hashes is None:
            saved = _write_new(folder, clean, data)
        else:
            with hashes.session() as known:
                same = known.source_of(digest)
                if same is not None:
                    return UploadOutcome(name, f"{_shown(name)}: same text as {_shown(same)}, already in the collection; not added")
                saved = _write_new(folder, clean, data)
                known.add(saved, digest)
    except ArticleError as exc:
        message = " ".join(str(exc).replace("; skipped", "; refused").split())
        return UploadOutcome(name, message)
    except OSError as exc:
        return UploadOutcome(name, f"{_shown(name)}: could not be saved ({exc.strerror or exc.__class__.__name__}); refused")
    except Exception:  # noqa: BLE001 - a bug in one file's handling is that file's verdict only
        log.exception("processing an uploaded file failed")
        return UploadOutcome(name, f"{_shown(name)}: could not be processed; refused")
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
    if not Path(settings.corpus_dir).is_dir():
        return UploadReport(tuple(UploadOutcome(str(n), f"{_shown(str(n))}: not saved") for n, _ in files), error="the corpus folder does not exist")
    hashes = TextHashes(Path(settings.corpus_dir), Path(settings.data_dir) / "upload-hashes.json", settings.max_file_bytes)
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
            except Exception:  # noqa: BLE001 - e.g. a source that is not a path: this file's verdict
                outcomes.append(UploadOutcome(name, f"{_shown(str(name))}: could not be read; refused"))
                continue
        outcomes.append(save_article(data, name, settings.corpus_dir, settings.max_file_bytes, hashes))
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
