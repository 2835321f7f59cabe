"""Who may log in, and how fast: the chat window's credential rules and a login throttle.

- ``check_credentials`` refuses (one-line ``AssistantError``) a password shorter than
  ``MIN_PASSWORD_CHARS`` or blank after stripping, and a user name that is blank or has
  surrounding spaces (Gradio strips the name typed at login, so it could never match).
- ``LoginThrottle`` is an ASGI middleware in front of Gradio's ``/login``: after
  ``free_failures`` wrong logins from one client address, each further attempt must wait
  (1 s, doubling up to ``max_delay``) and is answered 429 without checking the password until
  then; a successful login clears the count. Memory is bounded: at most ``max_clients``
  addresses are remembered, the least recently seen forgotten first.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from corpus.errors import AssistantError

__all__ = ["MIN_PASSWORD_CHARS", "check_credentials", "LoginThrottle", "delay_after"]

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
