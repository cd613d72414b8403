"""The login limit's memory: failed sign-ins per client address and per user name, in the
database so that every server process counts the same failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from qianmo.standard import utcnow
from qianmo.store._models import LoginFailureRow
from qianmo.store._sessions import as_utc


def _user_key(user: str) -> str:
    return f"user:{user}"[:200]


def _keys(client: str, user: str) -> list[str]:
    return [f"ip:{client}"[:200], _user_key(user)]


def login_wait_s(session: Session, client: str, user: str, *, limit: int, window_s: float) -> int:
    """Seconds before another sign-in may be tried from `client` or for `user`; 0: now."""
    now = utcnow()
    since = now - timedelta(seconds=window_s)
    rows = session.execute(
        select(LoginFailureRow.key, func.count(), func.min(LoginFailureRow.at))
        .where(LoginFailureRow.key.in_(_keys(client, user)), LoginFailureRow.at > since)
        .group_by(LoginFailureRow.key)
    ).all()
    waits = [
        (as_utc(oldest) + timedelta(seconds=window_s) - now).total_seconds()
        for _key, count, oldest in rows
        if count >= limit and isinstance(oldest, datetime)
    ]
    return int(max(waits)) + 1 if waits else 0


def record_login_failure(session: Session, client: str, user: str, *, window_s: float) -> None:
    """Count one failure under both keys; failures older than the window are dropped here."""
    now = utcnow()
    session.execute(
        delete(LoginFailureRow).where(LoginFailureRow.at <= now - timedelta(seconds=window_s))
    )
    session.add_all(LoginFailureRow(key=k, at=now) for k in _keys(client, user))


def clear_login_failures(session: Session, user: str) -> None:
    """A successful sign-in forgives the user name's failures (not the address's)."""
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.key == _user_key(user)))
