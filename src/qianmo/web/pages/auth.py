"""Sign in and sign out; the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from qianmo.store import audit, authenticate, end_session, start_session
from qianmo.web._deps import SESSION_KEY, DbDep, OptionalUser
from qianmo.web._errors import error_response
from qianmo.web._security import check_csrf, csrf_token
from qianmo.web._templates import render

router = APIRouter()


def _safe_next(target: str) -> str:
    # Only paths on this site: "//evil.example" or "https://…" would be an open redirect.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/")
def home(user: OptionalUser) -> Response:
    return RedirectResponse("/records" if user else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str = "/") -> Response:
    csrf_token(request)
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": "", "username": ""})


@router.post("/login")
def login(
    request: Request,
    db: DbDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf_token_)
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "?"
    wait = limiter.retry_after(db, client, username)
    if wait:
        msg = f"too many failed sign-ins: try again in {wait} s"
        return error_response(request, 429, msg, headers={"Retry-After": str(wait)})
    ttl_s = request.app.state.session_max_age_s
    with db.write() as s:
        row = authenticate(s, username, password)
        if row is not None:
            audit(s, actor=row.name, action="user.login", object_type="user", object_ids=[row.name])
            sid = start_session(s, row.name, ttl_s=ttl_s)
            limiter.succeeded(s, username)
    if row is None:
        limiter.failed(db, client, username)
        ctx = {"next": _safe_next(next), "error": "wrong user or password", "username": username}
        return render(request, "login.html", ctx, status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    request.session[SESSION_KEY] = sid
    csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(
    request: Request, db: DbDep, csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""
) -> Response:
    """Sign out: the session ends on the server too, so a copy of the cookie is worthless."""
    check_csrf(request, csrf_token_)
    sid = request.session.get(SESSION_KEY)
    if sid:
        with db.write() as s:
            end_session(s, str(sid))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
