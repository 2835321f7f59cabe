"""One writer at a time: the data folder's file lock (this machine) and the writer lease (a
shared Chroma server, where machines with their own data folders do not see each other's file
lock). Each refusal is one ``IndexStateError`` with one message, written here only.

The lease (``WriterLease``): the metadata of ``<name>.lock`` names one owner and an expiry; a
run takes it before touching anything, renews it at its checkpoints and releases it at the end;
a live lease of another owner refuses (or makes wait) the next writer; an expired one (its
writer was killed) is taken over. At commit the store re-reads the lease and the manifest
(``ChromaStore.commit``).

Chroma has no compare-and-swap, so a window remains: both checks are a read followed by a
write. Two writers can both believe they hold the lease when one reads it free before the
other's write lands and writes its own only after the other's re-read (``WriterLease.settle``
seconds after that write): a read-to-write gap longer than the pause. The one overwritten is
then refused at its next renewal or at commit at the latest. Only if both of them commit within
the same few milliseconds (between one's last re-read and its manifest write) does the later
write replace the earlier commit silently (the index stays whole; one run's changes are missing
until the next ``assistant index``). Expiry is wall-clock time, so the writers' clocks must
agree to well within the lease time (``LEASE_SECONDS``), and a writer stalled longer than that
between two checkpoints loses its lease (and is refused when it resumes).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from corpus.errors import IndexStateError

__all__ = ["LEASE_SECONDS", "LeaseStore", "WriterLease", "data_folder_lock", "lease_live", "writer_guard"]

LEASE_SECONDS = 120.0  # a writer's lease on a shared server; renewed at its checkpoints


@contextmanager
def exclusive_file(lock_file: str | os.PathLike[str], timeout: float, busy: Exception) -> Iterator[None]:
    """An exclusive ``flock`` on ``lock_file`` (created with its folder) across processes, waiting
    at most ``timeout`` seconds; then ``busy`` is raised. For small state files kept beside the
    index (the upload hashes, the followed feeds)."""
    import fcntl
    from pathlib import Path

    Path(lock_file).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with open(lock_file, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise busy from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def data_folder_lock(lock_path: str | os.PathLike[str], timeout: float = 0) -> Iterator[None]:
    """Hold the data folder's file lock; ``IndexStateError`` when another run holds it for
    longer than ``timeout`` seconds."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise IndexStateError(f"another indexing run holds {lock_path}; wait for it to finish") from None
    try:
        yield
    finally:
        lock.release()


def lease_live(meta: dict[str, Any]) -> bool:
    """True when a stored lease names an owner and has not expired."""
    return bool(meta.get("owner")) and float(meta.get("expires", 0) or 0) > time.time()


class LeaseStore(Protocol):
    """Where a lease is kept (``ChromaStore``): one metadata record per collection."""

    collection_name: str

    def read_lease(self) -> dict[str, Any]: ...

    def write_lease(self, meta: dict[str, Any]) -> None: ...


class WriterLease:
    """One indexing run's exclusive right to write a collection on a shared Chroma server.

    Stored as the metadata of ``<name>.lock``: ``owner`` (host:pid:random), ``expires`` (Unix
    time) and ``generation`` (the one being built; 0 before ``begin_generation``). ``acquire``
    refuses, or waits up to ``wait`` seconds, while another owner's lease is live; takes over an
    expired one (its writer was killed); and after writing re-reads once ``settle`` seconds
    later, so that of two writers racing for a free lease the one whose write landed first
    backs off. ``renew`` (at the run's checkpoints) extends it and ``check`` (before the commit)
    confirms it is still ours; both raise ``IndexStateError`` when another writer took it over.
    """

    def __init__(self, store: LeaseStore, ttl: float = LEASE_SECONDS, owner: str | None = None, settle: float = 0.2):
        if ttl <= 0:
            raise ValueError(f"ttl must be greater than 0. Currently, ttl is {ttl}")
        self.store = store
        self.ttl = ttl
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.settle = settle
        self.generation = 0
        self.held = False
        self._renewed = 0.0

    def _write(self) -> None:
        self.store.write_lease({"owner": self.owner, "expires": time.time() + self.ttl, "generation": self.generation})
        self._renewed = time.monotonic()

    def _held_error(self, meta: dict[str, Any]) -> IndexStateError:
        until = time.strftime("%H:%M:%S UTC", time.gmtime(float(meta.get("expires", 0))))
        return IndexStateError(
            f"another writer ({meta.get('owner')}) is indexing the collection {self.store.collection_name!r} "
            f"on this Chroma server (its lease runs until {until} unless renewed); wait for it to finish "
            "and run `assistant index` again"
        )

    def acquire(self, wait: float = 0) -> WriterLease:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            current = self.store.read_lease()
            if lease_live(current) and current.get("owner") != self.owner:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._held_error(current)
                time.sleep(min(1.0, left))
                continue
            self._write()
            time.sleep(self.settle)
            if self.store.read_lease().get("owner") == self.owner:
                self.held = True
                return self
            # another writer's write landed after ours: theirs stands, we wait or refuse above

    def check(self) -> None:
        """Raise ``IndexStateError`` unless the stored lease still names this owner."""
        current = self.store.read_lease()
        if current.get("owner") != self.owner:
            self.held = False
            who = current.get("owner") or "which has finished since"
            raise IndexStateError(
                f"this indexing run's lease on the collection {self.store.collection_name!r} expired and was "
                f"taken over by another writer ({who}); nothing of this run was committed; "
                "run `assistant index` again"
            )

    def renew(self, force: bool = False) -> None:
        """Extend the lease (at most every quarter of ``ttl`` unless ``force``), after ``check``."""
        if not self.held or (not force and time.monotonic() - self._renewed < self.ttl / 4):
            return
        self.check()
        self._write()

    def building(self, generation: int) -> None:
        """Name the generation this run builds, so that no one's ``drop_stale`` drops it."""
        self.generation = generation
        self.renew(force=True)

    def release(self) -> None:
        """Give the lease up (best effort: an unreleased lease expires by itself)."""
        if not self.held:
            return
        self.held = False
        try:
            if self.store.read_lease().get("owner") == self.owner:
                self.store.write_lease({"owner": "", "expires": 0.0, "generation": 0})
        except IndexStateError:
            pass


@contextmanager
def writer_guard(lock_path: str | os.PathLike[str], store: LeaseStore | None, timeout: float = 0) -> Iterator[WriterLease | None]:
    """The data folder's lock, and with ``store`` (a shared server) the writer lease too, both
    waited for up to ``timeout`` seconds; the lease is released on the way out."""
    with data_folder_lock(lock_path, timeout):
        lease = WriterLease(store).acquire(wait=timeout) if store is not None else None
        try:
            yield lease
        finally:
            if lease is not None:
                lease.release()
