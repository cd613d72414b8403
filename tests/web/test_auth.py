"""Signing in and out: sessions, CSRF, rate limit, security headers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from qianmo.store import Database
from qianmo.web import CSP
from tests.helpers.accounts import PASSWORD
from tests.helpers.web import csrf_of, make_app, sign_in


def test_pages_need_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/records?kind=qa", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/records%3Fkind%3Dqa"
    api = client.get("/api/v1/records")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "unauthenticated"


def test_sign_in_sets_a_hardened_cookie_and_sign_out_ends_it(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "a-viewer", "password": PASSWORD, "csrf_token": token, "next": "/jobs"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/jobs"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = client.get("/jobs")
    assert page.status_code == 200 and "a-viewer" in page.text
    new_token = csrf_of(page.text)
    assert new_token != token  # a fresh session on sign-in
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    client.post("/logout", data={"csrf_token": new_token})
    assert client.get("/jobs", follow_redirects=False).status_code == 303


def test_login_needs_the_csrf_token_and_refuses_open_redirects(client: TestClient) -> None:
    forged = client.post("/login", data={"username": "a-viewer", "password": PASSWORD})
    assert forged.status_code == 403
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "a-viewer",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_failed_logins_are_rate_limited(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    bad = {"username": "a-admin", "password": "wrong-password", "csrf_token": token}
    codes = [client.post("/login", data=bad).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    good = {**bad, "password": PASSWORD}
    limited = client.post("/login", data=good)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


def test_the_limit_is_shared_by_every_server_process(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    # A second app on the same workspace stands for `qianmo serve --workers 2`'s other process.
    other = TestClient(make_app(db, tmp_path / "home2"), base_url="http://127.0.0.1")
    codes = []
    for i in range(6):
        c = client if i % 2 else other
        token = csrf_of(c.get("/login").text)
        data = {"username": "a-admin", "password": "wrong-password", "csrf_token": token}
        codes.append(c.post("/login", data=data).status_code)
    assert codes == [401] * 5 + [429]


def test_a_good_sign_in_forgives_the_user_not_the_address(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    bad = {"username": "a-admin", "password": "wrong-password", "csrf_token": token}
    assert [client.post("/login", data=bad).status_code for _ in range(3)] == [401] * 3
    good = {**bad, "password": PASSWORD}
    assert client.post("/login", data=good, follow_redirects=False).status_code == 303
    token = csrf_of(client.get("/login").text)
    other = {"username": "a-viewer", "password": "wrong-password", "csrf_token": token}
    # the address has 3 failures left in its window, so 2 more reach the limit
    assert [client.post("/login", data=other).status_code for _ in range(3)] == [401, 401, 429]


def test_every_response_carries_security_headers(client: TestClient) -> None:
    for response in (client.get("/login"), client.get("/api/v1/records"), client.get("/nope")):
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP


def test_a_signed_in_page_has_the_layout(client: TestClient) -> None:
    sign_in(client, "a-admin")
    page = client.get("/records").text
    assert '<script src="/static/htmx.min.js"' in page and "<script>" not in page
    assert client.get("/static/htmx.min.js").status_code == 200
