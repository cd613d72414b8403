"""Dependencies: the database, a read session, and who is asking (session cookie or token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.errors import PolicyRefused
from qianmo.store import Database, UserRow, Viewer, load_viewer, user_for_token
from qianmo.web._errors import LoginRequired
from qianmo.web._security import CSRF_HEADER, check_csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The signed-in user: their viewer (orgs, partners, roles) and how they authenticated."""

    viewer: Viewer
    via: Literal["session", "token"]
    read_only: bool = False

    @property
    def name(self) -> str:
        return self.viewer.name


# Dependencies without I/O are `async def`: FastAPI runs plain `def` ones in its thread pool,
# and each hop there cost more than the work itself (profiled: ~26 hops per request).
async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DbDep = Annotated[Database, Depends(get_db)]


async def get_session(db: DbDep) -> AsyncIterator[Session]:
    # Opening is lazy (no I/O until the first query, which runs in a route's thread); closing
    # returns the connection to the pool.
    with db.read() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _active(session: Session, name: str) -> bool:
    row = session.execute(select(UserRow.is_active).where(UserRow.name == name)).first()
    return bool(row and row[0])


def _authenticate(request: Request, s: Session) -> Principal | None:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret:
        found = user_for_token(s, secret.strip())
        if found is None:
            return None
        return Principal(load_viewer(s, found.user), "token", found.read_only)
    name = request.session.get("user") if "session" in request.scope else None
    if not name or not _active(s, str(name)):
        return None
    return Principal(load_viewer(s, str(name)), "session")


def current_user(request: Request, session: SessionDep) -> Principal:
    """Who is asking; state-changing requests also need CSRF (cookies) or a writable token."""
    # One read session per request (FastAPI caches it): nested pool checkouts under load
    # would let threads each hold one connection while waiting for a second.
    principal = _authenticate(request, session)
    if principal is None:
        raise LoginRequired()
    request.state.principal = principal
    if request.method not in SAFE_METHODS:
        if principal.read_only:
            raise PolicyRefused("this API token is read-only")
        if principal.via == "session" and request.url.path.startswith("/api/"):
            check_csrf(request, request.headers.get(CSRF_HEADER))
    return principal


def optional_user(request: Request, session: SessionDep) -> Principal | None:
    principal = _authenticate(request, session)
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]
