"""Security headers on every response, CSRF tokens for forms, and a login rate limit."""

from __future__ import annotations

import asyncio
import hmac
import secrets

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qianmo.errors import PolicyRefused
from qianmo.store import Database, clear_login_failures, login_wait_s, record_login_failure

# Strict: scripts and styles only from this origin (htmx is a vendored file), no inline
# script or style, no plugins, no framing, forms post only here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response that does not set its own value."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, presented: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not presented or not hmac.compare_digest(str(expected), presented):
        raise PolicyRefused("missing or wrong CSRF token: reload the page and try again")


class LoginLimiter:
    """At most `limit` failed logins per `window_s` per client address and per user name.

    The failures are rows in the database (`qianmo.store._logins`), not this process's memory:
    `qianmo serve --workers N` would otherwise let N times as many guesses through."""

    def __init__(self, limit: int = 5, window_s: float = 60.0) -> None:
        self.limit, self.window_s = limit, window_s

    def retry_after(self, db: Database, client: str, user: str) -> int:
        """Seconds to wait before another attempt; 0 when one is allowed now."""
        with db.read() as s:
            return login_wait_s(s, client, user, limit=self.limit, window_s=self.window_s)

    def failed(self, db: Database, client: str, user: str) -> None:
        with db.write() as s:
            record_login_failure(s, client, user, window_s=self.window_s)

    def succeeded(self, session: Session, user: str) -> None:
        """Inside the sign-in's own transaction."""
        clear_login_failures(session, user)


class ConcurrencyLimit:
    """At most `limit` requests inside the app at once; the rest wait in the event loop.

    Why: routes and dependencies run in a pool of 40 threads and each request holds a
    database connection from its first query to its end. With more requests in flight than
    connections, waiting threads fill the thread pool while the requests that hold the
    connections need a thread to finish: every request stalls until the pool timeout
    (measured by bench/web_load.py: 13 answers in 30 s at 100 requests/s before this limit).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # created inside the running loop
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
