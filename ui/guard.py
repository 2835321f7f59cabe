"""Who may log in, and how fast: the chat window's credential rules and a login throttle.

- ``check_credentials`` refuses (one-line ``AssistantError``) a password shorter than
  ``MIN_PASSWORD_CHARS`` or blank after stripping, and a user name that is blank or has
  surrounding spaces (Gradio strips the name typed at login, so it could never match).
- ``LoginThrottle`` is an ASGI middleware in front of Gradio's ``/login``: after
  ``free_failures`` wrong logins from one client address, each further attempt must wait
  (1 s, doubling up to ``max_delay``) and is answered 429 without checking the password until
  then; a successful login clears the count. Memory is bounded: at most ``max_clients``
  addresses are remembered, the least recently seen forgotten first.
- ``LoginPageFilter`` is an ASGI middleware that empties ``window.gradio_api_info`` on the page a
  client without a login gets (Gradio 6 embeds the full API schema in it, endpoints and every
  choice of the article filter); the page after login is left alone.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from corpus.errors import AssistantError

__all__ = ["MIN_PASSWORD_CHARS", "check_credentials", "LoginThrottle", "LoginPageFilter", "delay_after", "strip_api_info"]

MIN_PASSWORD_CHARS = 12

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def check_credentials(auth: tuple[str, str] | None) -> None:
    """Raise ``AssistantError`` (one line, never echoing the password) for weak credentials."""
    if auth is None:
        return
    user, password = auth
    if not user.strip():
        raise AssistantError("ASSISTANT_AUTH_USER is blank; set a user name")
    if user != user.strip():
        raise AssistantError("ASSISTANT_AUTH_USER has spaces around it; the login form strips them, so it could never match")
    if not password.strip():
        raise AssistantError("ASSISTANT_AUTH_PASSWORD is blank; set a password of at least 12 characters")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AssistantError(f"ASSISTANT_AUTH_PASSWORD is {len(password)} characters; use at least {MIN_PASSWORD_CHARS}")


def delay_after(failures: int, free_failures: int = 3, max_delay: float = 60.0) -> float:
    """Seconds a client must wait after ``failures`` wrong logins in a row. Pure."""
    if failures < free_failures:
        return 0.0
    return min(max_delay, 2.0 ** (failures - free_failures))


@dataclass
class _Record:
    failures: int = 0
    not_before: float = 0.0


class LoginThrottle:
    """ASGI middleware slowing repeated failed logins per client address (see the module)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        free_failures: int = 3,
        max_delay: float = 60.0,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.free_failures = free_failures
        self.max_delay = max_delay
        self.max_clients = max_clients
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _is_login(scope: Scope) -> bool:
        return scope.get("type") == "http" and scope.get("method") == "POST" and str(scope.get("path", "")).rstrip("/").endswith("/login")

    def _wait(self, client: str) -> float:
        with self._lock:
            record = self._records.get(client)
            return max(0.0, record.not_before - self.clock()) if record else 0.0

    def _outcome(self, client: str, ok: bool) -> None:
        with self._lock:
            if ok:
                self._records.pop(client, None)
                return
            record = self._records.pop(client, None) or _Record()
            record.failures += 1
            record.not_before = self.clock() + delay_after(record.failures, self.free_failures, self.max_delay)
            self._records[client] = record  # most recently seen last
            while len(self._records) > self.max_clients:
                self._records.popitem(last=False)

    def clients(self) -> int:
        """How many client addresses are remembered now."""
        with self._lock:
            return len(self._records)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._is_login(scope):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = self._wait(client)
        if wait > 0:
            body = json.dumps({"detail": f"Too many failed logins; try again in {wait:.0f} s."}).encode()
            headers = [(b"content-type", b"application/json"), (b"retry-after", str(max(1, round(wait))).encode())]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        status: list[int] = []

        async def watch(message: MutableMapping[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                status.append(int(message.get("status", 0)))
            await send(message)

        await self.app(scope, receive, watch)
        code = status[0] if status else 0
        if code == 200 or code in (400, 401, 403):  # a redirect (no auth configured) counts as neither
            self._outcome(client, code == 200)


_API_INFO = re.compile(rb"<script>window\.gradio_api_info = .*?;</script>", re.S)
_EMPTY_API_INFO = b'<script>window.gradio_api_info = {"named_endpoints": {}, "unnamed_endpoints": {}};</script>'


def strip_api_info(page: bytes) -> bytes:
    """A login page (Gradio's config says ``auth_required``) without its API schema. Pure."""
    if b'"auth_required":true' not in page.replace(b" ", b""):
        return page
    return _API_INFO.sub(lambda m: _EMPTY_API_INFO, page)


class LoginPageFilter:
    """ASGI middleware: HTML pages for clients without a login lose the API schema."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_page: int = 4 * 1024 * 1024) -> None:
        self.app = app
        self.max_page = max_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        passing = [False]

        async def hold(message: MutableMapping[str, Any]) -> None:
            if passing[0]:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    passing[0] = True
                    await send(message)
                    return
                start.update(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body") and sum(map(len, chunks)) <= self.max_page:
                    return
                body = b"".join(chunks)
                if not message.get("more_body"):
                    body = strip_api_info(body)
                headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                passing[0] = True
                if message.get("more_body"):  # too large to be a login page: pass it on unchanged
                    headers = [h for h in headers if h[0] != b"content-length"] + [
                        h for h in (start.get("headers") or []) if h[0].lower() == b"content-length"
                    ]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": bool(message.get("more_body"))})
                return
            await send(message)

        await self.app(scope, receive, hold)
