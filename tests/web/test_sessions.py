"""Server-side sessions: a copied cookie dies with sign-out, a password change or an admin's
revocation; API tokens and sessions record their last use at most once a minute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from qianmo.standard import utcnow
from qianmo.store import (
    Database,
    TokenRow,
    WebSessionRow,
    audit_entries,
    create_token,
    list_sessions,
    list_tokens,
    set_password,
)
from qianmo.web._app import SESSION_COOKIE
from tests.helpers.accounts import PASSWORD
from tests.helpers.web import sign_in


@pytest.fixture
def other(app: FastAPI) -> Iterator[TestClient]:
    """A second browser (another device, or an attacker holding a copied cookie)."""
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _copy_cookie(src: TestClient, dst: TestClient) -> None:
    dst.cookies.set(SESSION_COOKIE, src.cookies[SESSION_COOKIE])


def _signed_in(client: TestClient) -> bool:
    response = client.get("/api/v1/me")
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def test_a_copied_cookie_stops_working_after_sign_out(
    client: TestClient, other: TestClient, db: Database
) -> None:
    csrf = sign_in(client, "a-viewer")
    _copy_cookie(client, other)
    assert _signed_in(other) and other.get("/records").status_code == 200
    with db.read() as s:
        stored = list_sessions(s, "a-viewer")
    assert len(stored) == 1 and stored[0].session_id not in client.cookies[SESSION_COOKIE]

    client.post("/logout", data={"csrf_token": csrf})
    assert not _signed_in(other)  # the copy carries a valid signature but no live session
    assert other.get("/records", follow_redirects=False).status_code == 303
    with db.read() as s:
        assert list_sessions(s, "a-viewer") == []


def test_a_password_change_ends_the_other_sessions_only(
    client: TestClient, other: TestClient, db: Database
) -> None:
    csrf = sign_in(client, "a-viewer")
    sign_in(other, "a-viewer")  # the same user on a second device
    stolen = TestClient(client.app, base_url="http://127.0.0.1")
    _copy_cookie(other, stolen)
    wrong = client.put(
        "/api/v1/me/password",
        json={"current_password": "not-it-at-all", "new_password": "a-new-password-1"},
        headers={"X-CSRF-Token": csrf},
    )
    assert wrong.status_code == 400 and _signed_in(other)
    changed = client.put(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-new-password-1"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200 and changed.json() == {"ended": 1}
    assert _signed_in(client)  # the session that made the change stays
    assert not _signed_in(other) and not _signed_in(stolen)


def test_passwd_from_the_command_line_ends_every_session(
    client: TestClient, other: TestClient, db: Database
) -> None:
    sign_in(client, "a-viewer")
    sign_in(other, "a-viewer")
    with db.write() as s:  # what `qianmo users passwd` calls
        assert set_password(s, "a-viewer", "a-new-password-2", actor="cli") == 2
    assert not _signed_in(client) and not _signed_in(other)
    sign_in(client, "a-viewer", "a-new-password-2")
    assert _signed_in(client)


def test_a_token_cannot_change_the_password(client: TestClient, db: Database) -> None:
    with db.write() as s:
        _, secret = create_token(s, "a-viewer", actor="t")
    response = client.put(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-new-password-3"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 403


def test_an_admin_ends_a_members_sessions(
    client: TestClient, other: TestClient, db: Database
) -> None:
    sign_in(other, "a-viewer")
    outsider = sign_in(client, "c-viewer")  # org-c: not an admin of the viewer's org
    refused = client.delete("/api/v1/users/a-viewer/sessions", headers={"X-CSRF-Token": outsider})
    assert refused.status_code == 403 and _signed_in(other)
    missing = client.delete("/api/v1/users/nobody/sessions", headers={"X-CSRF-Token": outsider})
    assert missing.status_code == 404

    admin = sign_in(client, "a-admin")
    listed = client.get("/api/v1/users/a-viewer/sessions").json()
    assert len(listed) == 1 and listed[0]["last_seen_at"] is not None
    ended = client.delete("/api/v1/users/a-viewer/sessions", headers={"X-CSRF-Token": admin})
    assert ended.status_code == 200 and ended.json() == {"ended": 1}
    assert not _signed_in(other) and _signed_in(client)
    with db.read() as s:
        actions = [(e.actor, e.action) for e in audit_entries(s)]
    assert ("a-admin", "user.sessions.revoke") in actions
    assert ("c-viewer", "access.denied") in actions


def test_an_expired_session_is_refused(client: TestClient, db: Database) -> None:
    sign_in(client, "a-viewer")
    with db.write() as s:
        s.execute(update(WebSessionRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert not _signed_in(client)


def _last_used(db: Database) -> datetime | None:
    with db.read() as s:
        (info,) = list_tokens(s, user="a-viewer")
    # SQLite hands back naive datetimes (stored as UTC)
    last = info.last_used_at
    return last.replace(tzinfo=UTC) if last is not None and last.tzinfo is None else last


def _set_last_used(db: Database, when: datetime) -> None:
    with db.write() as s:
        s.execute(update(TokenRow).values(last_used_at=when))


def test_token_last_use_is_written_at_most_once_a_minute(client: TestClient, db: Database) -> None:
    with db.write() as s:
        _, secret = create_token(s, "a-viewer", actor="t", name="ci")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert _last_used(db) is None
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert _last_used(db) is not None

    recent = utcnow().replace(microsecond=0) - timedelta(seconds=30)
    _set_last_used(db, recent)
    client.get("/api/v1/me", headers=bearer)
    assert _last_used(db) == recent, "a use within the minute wrote again"

    old = recent - timedelta(seconds=60)
    _set_last_used(db, old)
    client.get("/api/v1/me", headers=bearer)
    written = _last_used(db)
    assert written is not None and written > old, "a use after the minute was not written"
    (shown,) = client.get("/api/v1/tokens", headers=bearer).json()
    assert shown["name"] == "ci"
    assert datetime.fromisoformat(shown["last_used_at"]) == written
