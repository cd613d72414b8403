"""Dependencies: the database, a read session, and who is asking (session cookie or token)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from qianmo.errors import PolicyRefused
from qianmo.standard import utcnow
from qianmo.store import (
    Database,
    Viewer,
    seen_due,
    session_user,
    touch_session,
    touch_token,
    user_for_token,
)
from qianmo.web._errors import LoginRequired
from qianmo.web._security import CSRF_HEADER, check_csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """The signed-in user: their viewer (orgs, partners, roles) and how they authenticated."""

    viewer: Viewer
    via: Literal["session", "token"]
    read_only: bool = False
    session_id: str | None = None  # the stored hash of the browser session, when via it

    @property
    def name(self) -> str:
        return self.viewer.name


# Dependencies without I/O are `async def`: FastAPI runs plain `def` ones in its thread pool,
# and each hop there cost more than the work itself (profiled: ~26 hops per request).
async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DbDep = Annotated[Database, Depends(get_db)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Opening is lazy (no I/O until the first query, which runs in a route's thread); closing
    # returns the connection to the pool. The database straight from the app, not through
    # `get_db`: each dependency FastAPI solves costs tens of microseconds on every request.
    db: Database = request.app.state.db
    with db.lookups() as session:  # on PostgreSQL no BEGIN / COMMIT round trips
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


SESSION_KEY = "sid"  # the cookie's field holding the session secret


Touch = Callable[[Session], None]  # the "last used" write a credential is due, if any


def _conn(s: Session | Connection) -> Connection:
    """The connection to look up on; a session's is taken only now (a checkout on PostgreSQL),
    so a request presenting no credential takes none."""
    return s.connection() if isinstance(s, Session) else s


def _lookup(request: Request, s: Session | Connection) -> tuple[Principal, Touch | None] | None:
    """Who is asking (one indexed query on `s`, the request's read session or a lookup
    connection), and the write recording that they were seen."""
    now = utcnow()
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret:
        found = user_for_token(_conn(s), secret.strip())
        if found is None:
            return None
        token = Principal(found.viewer, "token", found.read_only)
        if not seen_due(found.last_used_at, now):  # at most one write a minute per token
            return token, None
        return token, lambda w: touch_token(w, found.token_id, now)
    sid = request.session.get(SESSION_KEY) if "session" in request.scope else None
    live = session_user(_conn(s), str(sid)) if sid else None
    if live is None:
        return None
    browser = Principal(live.viewer, "session", session_id=live.session_id)
    if not seen_due(live.last_seen_at, now):
        return browser, None
    return browser, lambda w: touch_session(w, live.session_id, now)


def _write(db: Database, change: Touch) -> None:
    with db.write() as w:
        change(w)


def _looked_up(request: Request) -> tuple[Principal, Touch | None] | None:
    """`_lookup` on a lookup connection of its own, for a route that takes no `SessionDep`: a
    session from FastAPI's generator dependency cost more than the query (entering and
    closing it through its exit stack and cancel scopes was ~a quarter of a label's
    event-loop CPU on PostgreSQL, profiled under bench/annotate_load.py), and an ORM session
    of its own still cost more than a bare connection (`Database.lookup_connection`)."""
    db: Database = request.app.state.db
    with db.lookup_connection() as conn:
        return _lookup(request, conn)


def _admitted_now(
    request: Request, found: tuple[Principal, Touch | None] | None
) -> tuple[Principal, Touch | None]:
    if found is None:
        raise LoginRequired()
    principal, touch = found
    return _admitted(request, principal), touch


async def _authenticate(request: Request, s: Session) -> Principal | None:
    db: Database = request.app.state.db
    # On SQLite the lookup runs here, on the event loop: an indexed read of a local file that
    # never waits for writers (WAL) takes ~50 µs, and the hop to a worker thread and back
    # cost more than that, with the GIL handed over twice (profiled under bench/web_load.py).
    # A PostgreSQL round trip could stall every request on the loop: it goes to a thread.
    if db.is_sqlite:
        found = _lookup(request, s)
    else:
        found = await run_in_threadpool(_lookup, request, s)
    if found is None:
        return None
    principal, touch = found
    if touch is not None:  # a write can wait for SQLite's writer lock: never on the loop
        await run_in_threadpool(_write, db, touch)
    return principal


def _admitted(request: Request, principal: Principal) -> Principal:
    """The checks on who is asking: state-changing requests need CSRF (cookies) or a
    writable token."""
    request.state.principal = principal
    if request.method not in SAFE_METHODS:
        if principal.read_only:
            raise PolicyRefused("this API token is read-only")
        if principal.via == "session" and request.url.path.startswith("/api/"):
            check_csrf(request, request.headers.get(CSRF_HEADER))
    return principal


async def current_user(request: Request, session: SessionDep) -> Principal:
    """Who is asking; state-changing requests also need CSRF (cookies) or a writable token."""
    # One read session per request (FastAPI caches it): nested pool checkouts under load
    # would let threads each hold one connection while waiting for a second.
    principal = await _authenticate(request, session)
    if principal is None:
        raise LoginRequired()
    return _admitted(request, principal)


@dataclass
class Asking:
    """Who is asking, for a route that does its work in one worker thread and needs no other
    read session: there, on PostgreSQL, `principal()` looks them up (and checks them as
    `current_user` does), so the request takes one thread hop instead of two. On SQLite they
    were found on the event loop already (`asking`). Call `principal()` before anything else
    the route does."""

    request: Request
    found: Principal | None = None

    @property
    def db(self) -> Database:
        """The app's database: the label routes take it from here rather than from `DbDep`,
        one dependency fewer for FastAPI to solve on every label."""
        db: Database = self.request.app.state.db
        return db

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in one of the app's label threads (a pool as large as the requests let
        in at once). Not Starlette's `run_in_threadpool`: its anyio hop (capacity limiter,
        cancel scope, backend lookup) cost 39–46 µs of CPU a call against 22–24 µs for the
        event loop's own `run_in_executor` (5,000 hops each, uvloop), on every label."""
        pool: Executor = self.request.app.state.label_threads
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    def principal(self) -> Principal:
        if self.found is None:
            principal, touch = _admitted_now(self.request, _looked_up(self.request))
            if touch is not None:
                _write(self.db, touch)
            self.found = principal
        return self.found


async def asking(request: Request) -> Asking:
    db: Database = request.app.state.db
    if not db.is_sqlite:
        return Asking(request)
    # On the loop, as `current_user` does there (no hop to save); the touch, a write, is not.
    principal, touch = _admitted_now(request, _looked_up(request))
    if touch is not None:
        await run_in_threadpool(_write, db, touch)
    return Asking(request, principal)


async def optional_user(request: Request, session: SessionDep) -> Principal | None:
    principal = await _authenticate(request, session)
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
AskingDep = Annotated[Asking, Depends(asking)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]
