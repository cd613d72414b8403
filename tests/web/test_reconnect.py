"""A PostgreSQL connection the server drops while it sits in the pool: the next request
still works (the pool notices without a round trip and opens a new connection)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from qianmo.store import Database, _db, create_token
from tests.helpers.db import postgres_url


def _pooled_backends(db: Database) -> list[int]:
    """The server process of every connection now idle in the pool (taking them all out)."""
    conns = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        return [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in conns]
    finally:
        for c in conns:
            c.close()


@pytest.mark.parametrize("how", ["input waiting", "ping after idle"])
def test_a_request_after_the_server_ended_every_pooled_connection(
    db: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    url = postgres_url()
    if url is None or db.is_sqlite:
        pytest.skip("needs PostgreSQL (QIANMO_TEST_DATABASE_URL)")
    with db.write() as s:
        _, secret = create_token(s, "a-annotator", actor="t")
    auth = {"Authorization": f"Bearer {secret}"}
    if how == "ping after idle":  # a drop that sends nothing (a firewall): only a ping tells
        monkeypatch.setattr(_db, "_input_waiting", lambda _conn: False)
        monkeypatch.setattr(_db, "PING_AFTER_IDLE_S", 0.0)
    assert client.get("/api/v1/annotate/campaigns", headers=auth).status_code == 200
    before = _pooled_backends(db)
    assert before  # the request returned its connections to the pool
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            for pid in before:
                # waits (up to 5 s) until the backend has exited and closed its socket
                ended = conn.execute(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
                assert ended.scalar_one() is True
    finally:
        admin.dispose()
    # the next requests: a read (who is asking) and a write (the token's "last used" is due)
    response = client.get("/api/v1/annotate/campaigns", headers=auth)
    assert response.status_code == 200, response.text
    with db.write() as s:
        assert s.execute(text("SELECT 1")).scalar_one() == 1
    assert not set(_pooled_backends(db)) & set(before)  # new connections replaced them
