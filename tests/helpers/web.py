"""Web test helpers: an app on a test database, and signing in like a browser does."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from qianmo.settings import Settings
from qianmo.store import Database
from qianmo.web import create_app
from tests.helpers.accounts import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(db: Database, home: Path, *, run_worker: bool = False) -> FastAPI:
    settings = Settings(home=home, secret_key="test-only-secret-key-0123456789", environment="test")
    return create_app(settings, db=db, run_worker=run_worker)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/records").text)  # signing in starts a fresh session
