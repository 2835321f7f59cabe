"""Fetching one URL for the corpus, safely: the only module that opens HTTP connections.

``fetch(url, policy)`` returns the bytes of a page, a PDF, a text file or a feed, or raises
``ArticleError`` with one line naming the URL. What it enforces (``FetchPolicy``):

- ``http`` and ``https`` only; no credentials in the URL.
- Every address the host name resolves to must be a public one: private, loopback, link-local,
  multicast, reserved and unspecified addresses (IPv4 and IPv6, IPv4-mapped too) are refused
  unless ``allow_private``. The connection goes to the address that was checked (a custom
  ``httpcore`` network backend resolves, checks and connects in one step), so a name that
  resolves differently a second time cannot slip through; TLS still verifies the host name.
- Redirects are followed by hand, at most ``max_redirects``, and each hop is checked again.
- Timeouts: ``connect_timeout`` and ``read_timeout`` per operation, ``total_timeout`` for the
  whole fetch (a server that trickles bytes is cut off).
- At most ``max_bytes``: a larger ``Content-Length`` is refused before reading, and the body is
  read in pieces and abandoned as soon as it passes the limit. No compression is asked for
  (``Accept-Encoding: identity``), so nothing inflates after the check.
- The content type must be one of ``accept`` (HTML, PDF, text; feeds add their XML types).

No environment proxy is used (``httpcore`` reads none), so the checks apply to the real peer.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpcore

from corpus.errors import ArticleError
from corpus.web import ARTICLE_TYPES, media_type

__all__ = ["FetchPolicy", "Fetched", "fetch", "check_url", "FEED_TYPES"]

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
_USER_AGENT = "article-assistant/0.1 (+https://github.com/; fetches one article on request)"


@dataclass(frozen=True)
class FetchPolicy:
    """What one fetch may do; defaults suit adding an article by hand."""

    allow_private: bool = False
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    accept: tuple[str, ...] = ARTICLE_TYPES


@dataclass(frozen=True)
class Fetched:
    """A fetched body: ``url`` is where it was finally found (after redirects)."""

    url: str
    content_type: str
    data: bytes


def _short(url: str, limit: int = 120) -> str:
    text = "".join(ch if ch.isprintable() and not ch.isspace() else "?" for ch in str(url))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_url(url: str) -> str:
    """``url`` stripped, if it is an ``http(s)`` URL with a host and no credentials; else
    ``ArticleError``. Pure (no name resolution)."""
    text = str(url or "").strip()
    if not text:
        raise ArticleError("an empty address; nothing fetched")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ArticleError(f"{_short(text)}: not a valid web address; nothing fetched") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ArticleError(f"{_short(text)}: only http:// and https:// addresses can be fetched; nothing fetched")
    if not parts.hostname:
        raise ArticleError(f"{_short(text)}: the address has no host; nothing fetched")
    if parts.username is not None or parts.password is not None:
        raise ArticleError(f"{_short(text)}: addresses with a user name or password are refused; nothing fetched")
    if port == 0:
        raise ArticleError(f"{_short(text)}: port 0 is not a web server; nothing fetched")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ArticleError(f"{_short(text)}: the address contains spaces or control characters; nothing fetched")
    if not text.isascii():  # an international name or path: its ASCII form (IDNA host, %-escapes)
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise ArticleError(f"{_short(text)}: the host name is not valid; nothing fetched") from None
        netloc = host if ":" not in host else f"[{host}]"
        netloc += f":{port}" if port is not None else ""
        safe = "/%:@!$&'()*+,;=-._~?#[]"
        text = urlunsplit((parts.scheme, netloc, quote(parts.path, safe=safe), quote(parts.query, safe=safe), quote(parts.fragment, safe=safe)))
    return text


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _Refused(Exception):
    """Raised inside the network backend; turned into ``ArticleError`` by ``fetch``."""


class _CheckedBackend(httpcore.NetworkBackend):
    """Resolves a host, refuses non-public addresses (unless allowed), connects to a checked one."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[object] | None = None) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise _Refused(f"cannot resolve {host} ({getattr(exc, 'strerror', None) or exc.__class__.__name__})") from None
        addresses = list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))
        if not addresses:
            raise _Refused(f"cannot resolve {host}")
        if not self._allow_private:
            for address in addresses:
                if not _public(ipaddress.ip_address(address)):
                    where = address if address == host.strip("[]") else f"{host} ({address})"
                    raise _Refused(f"{where} is a private, loopback or link-local address; refused (--allow-private allows it)")
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)  # type: ignore[arg-type]
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Iterable[object] | None = None) -> httpcore.NetworkStream:
        raise _Refused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


def fetch(url: str, policy: FetchPolicy | None = None) -> Fetched:
    """The body at ``url`` under ``policy`` (see the module rules). Raises ``ArticleError``."""
    policy = policy or FetchPolicy()
    first = check_url(url)
    current = first
    deadline = time.monotonic() + policy.total_timeout
    accept = ", ".join(policy.accept) + ", */*;q=0.1"
    with httpcore.ConnectionPool(network_backend=_CheckedBackend(policy.allow_private), max_connections=1, retries=0) as pool:
        for _hop in range(policy.max_redirects + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ArticleError(f"{_short(first)}: no answer within {policy.total_timeout:g} s; nothing saved")
            timeouts = {
                "connect": min(policy.connect_timeout, left),
                "read": min(policy.read_timeout, left),
                "write": min(policy.read_timeout, left),
                "pool": min(policy.connect_timeout, left),
            }
            headers = [(b"User-Agent", _USER_AGENT.encode()), (b"Accept", accept.encode()), (b"Accept-Encoding", b"identity")]
            try:
                with pool.stream("GET", current, headers=headers, extensions={"timeout": timeouts}) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        location = _header(response.headers, b"location")
                        if not location:
                            raise ArticleError(f"{_short(first)}: a redirect without a location; nothing saved")
                        try:
                            current = check_url(urljoin(current, location))
                        except ArticleError as exc:
                            raise ArticleError(f"{_short(first)}: redirected to {exc}") from None
                        continue
                    if not 200 <= response.status < 300:
                        raise ArticleError(f"{_short(first)}: the server answered HTTP {response.status}; nothing saved")
                    content_type = _header(response.headers, b"content-type") or ""
                    kind = media_type(content_type)
                    if kind not in policy.accept:
                        raise ArticleError(
                            f"{_short(first)}: content type {kind or '(none)'} is not an article (HTML, PDF or text); nothing saved"
                        )
                    encoding = (_header(response.headers, b"content-encoding") or "identity").lower()
                    if encoding not in ("identity", ""):
                        raise ArticleError(f"{_short(first)}: compressed ({encoding}) although none was asked for; nothing saved")
                    length = _header(response.headers, b"content-length")
                    if length and length.isdigit() and int(length) > policy.max_bytes:
                        raise ArticleError(f"{_short(first)}: {int(length):,} bytes is over the {policy.max_bytes:,}-byte limit; nothing saved")
                    body = bytearray()
                    for piece in response.iter_stream():
                        body += piece
                        if len(body) > policy.max_bytes:
                            raise ArticleError(f"{_short(first)}: over the {policy.max_bytes:,}-byte limit; nothing saved")
                        if time.monotonic() > deadline:
                            raise ArticleError(f"{_short(first)}: not received within {policy.total_timeout:g} s; nothing saved")
                    return Fetched(url=current, content_type=content_type, data=bytes(body))
            except _Refused as exc:
                raise ArticleError(f"{_short(first)}: {exc}; nothing fetched") from None
            except httpcore.TimeoutException:
                raise ArticleError(f"{_short(first)}: the server did not answer in time; nothing saved") from None
            except httpcore.UnsupportedProtocol:
                raise ArticleError(f"{_short(first)}: only http:// and https:// addresses can be fetched; nothing fetched") from None
            except httpcore.ConnectError as exc:
                raise ArticleError(f"{_short(first)}: cannot connect ({_reason(exc)}); nothing saved") from None
            except (httpcore.ProtocolError, httpcore.NetworkError) as exc:
                raise ArticleError(f"{_short(first)}: the connection failed ({_reason(exc)}); nothing saved") from None
        raise ArticleError(f"{_short(first)}: more than {policy.max_redirects} redirects; nothing saved")


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return (text[:120] if text else exc.__class__.__name__)
