"""The Chroma client: a server (URL, token, TLS) or an embedded folder; and discarding an
embedded folder that cannot be opened. Errors become one-line ``IndexStateError``s here."""

from __future__ import annotations

import os
import shutil
from typing import Any

from corpus.errors import IndexStateError
from index.locking import data_folder_lock

__all__ = ["discard_local_index", "first_line", "make_client", "unreadable"]

REBUILD = "run `assistant index --rebuild`"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


def unreadable(exc: BaseException) -> IndexStateError:
    """The one-line error for a Chroma call that failed while reading the index."""
    return IndexStateError(f"the index cannot be read ({exc.__class__.__name__}: {first_line(exc)}); {REBUILD}")


def make_client(
    path: str | None = None, url: str | None = None, token: str | None = None, ca_file: str | None = None
) -> Any:
    """A Chroma client: a server when ``url`` is given, else embedded at ``path``.

    ``token`` goes out both as ``Authorization: Bearer`` and as ``X-Chroma-Token`` (the two
    headers Chroma's token auth and common proxies read); ``https://`` URLs use SSL, verified
    against ``ca_file`` when given (a self-signed server), else the system's CA store.
    """
    from index.offline import ensure_offline

    ensure_offline()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise IndexStateError(f"Chroma URL {url!r} is not of the form http://HOST:PORT")
        headers = {"Authorization": f"Bearer {token}", "X-Chroma-Token": token} if token else None
        if ca_file:
            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False, chroma_server_ssl_verify=ca_file)
        try:
            return chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                headers=headers,
                settings=chroma_settings,
            )
        except Exception as exc:  # connection refused, bad auth, ...
            raise IndexStateError(f"cannot reach the Chroma server at {url}: {exc}") from None
    if path is None:
        raise IndexStateError("no Chroma path or URL configured")
    try:
        return chromadb.PersistentClient(path=path, settings=chroma_settings)
    except Exception as exc:
        raise IndexStateError(f"the index at {path} cannot be opened ({exc.__class__.__name__}: {exc}); {REBUILD}") from None


def discard_local_index(path: str | os.PathLike[str], lock_path: str | os.PathLike[str]) -> None:
    """Delete an embedded index folder that cannot even be opened (for ``--rebuild``), holding
    the data folder's lock so no indexing run is using it."""
    with data_folder_lock(lock_path):
        shutil.rmtree(path, ignore_errors=True)
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
