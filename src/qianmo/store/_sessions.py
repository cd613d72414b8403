"""Server-side browser sessions: revocable on sign-out, on a password change and by an admin.

The session cookie carries a random secret; the table keeps only its SHA-256 (like API
tokens), the user and an expiry. A request is signed in only while its row exists, so a
copied cookie stops working as soon as the row is deleted.

`last_seen_at` (sessions) and `last_used_at` (tokens) are written at most once per
`SEEN_EVERY_S` per session or token, so reading a page does not cost a write each time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, delete, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from qianmo.errors import NotFound
from qianmo.standard import utcnow
from qianmo.store._access import Viewer, viewer_from_rows, with_viewer_columns
from qianmo.store._audit import audit
from qianmo.store._models import TokenRow, UserRow, WebSessionRow
from qianmo.store._prepared import Prepared, arg

SEEN_EVERY_S = 60


def _hash(secret: str) -> str:
    # 256 random bits: a fast hash suffices, there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def seen_due(last: datetime | None, now: datetime) -> bool:
    """Whether a `last_seen_at`/`last_used_at` stamp is old enough to be written again."""
    return last is None or (now - as_utc(last)).total_seconds() >= SEEN_EVERY_S


def _user_id(session: Session, name: str) -> str:
    found = session.execute(select(UserRow.id).where(UserRow.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no user {name!r}", object_id=name)
    return found


def start_session(session: Session, user: str, *, ttl_s: int) -> str:
    """A new session for `user`; returns the secret for the cookie (stored only hashed)."""
    user_id, now = _user_id(session, user), utcnow()
    # The user's expired sessions go now: the table holds live sessions only.
    session.execute(
        delete(WebSessionRow).where(
            WebSessionRow.user_id == user_id, WebSessionRow.expires_at < now
        )
    )
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            id_hash=_hash(secret),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
            last_seen_at=now,
        )
    )
    return secret


@dataclass(frozen=True)
class SessionUser:
    user: str
    session_id: str  # the stored hash: safe to keep in memory, log or compare
    last_seen_at: datetime | None
    viewer: Viewer


# Looked up on every signed-in page request: compiled once (store/_prepared.py).
_SESSION_USER = Prepared(
    with_viewer_columns(
        select(UserRow.name, WebSessionRow.id_hash, WebSessionRow.expires_at)
        .add_columns(WebSessionRow.last_seen_at)
        .select_from(WebSessionRow)
        .join(UserRow, UserRow.id == WebSessionRow.user_id)
        .where(WebSessionRow.id_hash == arg("id_hash"), UserRow.is_active.is_(True)),
        UserRow.id,
    )
)


def session_user(conn: Connection, secret: str) -> SessionUser | None:
    """Whose live session this secret opens (unexpired, unrevoked, the user active), with
    their viewer: one indexed query per request, so an ended session fails the next request.
    `conn` a session's (`session.connection()`) or a bare one (`Database.lookup_connection`)."""
    rows = _SESSION_USER.run(conn, {"id_hash": _hash(secret)}).rows
    if not rows or as_utc(rows[0][2]) <= utcnow():
        return None
    name, id_hash, _, last_seen = rows[0][:4]
    return SessionUser(name, id_hash, last_seen, viewer_from_rows(name, rows))


def end_session(session: Session, secret: str) -> None:
    """Sign-out: the session's row goes, so the cookie (and any copy of it) stops working."""
    session.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == _hash(secret)))


def end_user_sessions(session: Session, user: str, *, keep_session_id: str | None = None) -> int:
    """Delete `user`'s sessions (but `keep_session_id`) in the caller's change set."""
    query = delete(WebSessionRow).where(WebSessionRow.user_id == _user_id(session, user))
    if keep_session_id is not None:
        query = query.where(WebSessionRow.id_hash != keep_session_id)
    result = session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DELETE: CursorResult


def revoke_sessions(session: Session, user: str, *, actor: str) -> int:
    """End every session of `user` (an admin's action, audited); returns how many ended."""
    ended = end_user_sessions(session, user)
    audit(
        session, actor=actor, action="user.sessions.revoke", object_type="user", object_ids=[user]
    )
    return ended


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None


def list_sessions(session: Session, user: str) -> list[SessionInfo]:
    """The user's live sessions, newest first (ids are the stored hashes, never secrets)."""
    user_id, now = _user_id(session, user), utcnow()
    rows = session.execute(
        select(WebSessionRow)
        .where(WebSessionRow.user_id == user_id)
        .order_by(WebSessionRow.created_at.desc())
    ).scalars()
    return [
        SessionInfo(r.id_hash, r.created_at, r.expires_at, r.last_seen_at)
        for r in rows
        if as_utc(r.expires_at) > now
    ]


def _stale(column: InstrumentedAttribute[datetime | None], now: datetime) -> ColumnElement[bool]:
    cutoff = now - timedelta(seconds=SEEN_EVERY_S)
    return or_(column.is_(None), column < cutoff)


def touch_session(session: Session, session_id: str, now: datetime) -> None:
    """Record that the session was used (a no-op when another request just did)."""
    session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.id_hash == session_id, _stale(WebSessionRow.last_seen_at, now))
        .values(last_seen_at=now)
    )


def touch_token(session: Session, token_id: str, now: datetime) -> None:
    """Record that the API token was used (a no-op when another request just did)."""
    session.execute(
        update(TokenRow)
        .where(TokenRow.id == token_id, _stale(TokenRow.last_used_at, now))
        .values(last_used_at=now)
    )
