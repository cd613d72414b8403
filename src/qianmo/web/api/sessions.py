"""Your password, and browser sessions: a password change or an admin ends them."""

from __future__ import annotations

from fastapi import APIRouter

from qianmo.errors import NotFound, PolicyRefused, QianmoError
from qianmo.store import (
    authenticate,
    list_sessions,
    list_users,
    permits,
    revoke_sessions,
    set_password,
)
from qianmo.web._deps import CurrentUser, DbDep, Principal, SessionDep
from qianmo.web._errors import ErrorPublic
from qianmo.web._schemas import PasswordChange, SessionPublic, SessionsEnded
from qianmo.web._services import audit_denied

ERRORS = {code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 422)}
router = APIRouter(tags=["users"], responses=ERRORS)  # type: ignore[arg-type]


@router.put("/me/password", response_model=SessionsEnded)
def change_password(body: PasswordChange, user: CurrentUser, db: DbDep) -> SessionsEnded:
    """Change your password: every other browser session of yours ends (API tokens stay)."""
    if user.via != "session":
        # A stolen token must not be enough to take over the account.
        raise PolicyRefused("change your password from a signed-in browser session")
    with db.write() as s:
        if authenticate(s, user.name, body.current_password) is None:
            raise QianmoError("the current password is wrong", field="current_password")
        ended = set_password(
            s, user.name, body.new_password, actor=user.name, keep_session_id=user.session_id
        )
    return SessionsEnded(ended=ended)


def _may_manage(db: DbDep, session: SessionDep, user: Principal, name: str) -> None:
    """Platform admins manage anyone; an organisation's admins manage its members."""
    target = next((u for u in list_users(session) if u.name == name), None)
    if target is None:
        raise NotFound(f"no user {name!r}", object_id=name)
    if permits(user.viewer, "orgs.manage") or any(
        permits(user.viewer, "orgs.members", org) for org in target.roles
    ):
        return
    audit_denied(db, user, "user", name)
    raise PolicyRefused(f"{user.name} may not manage {name}'s sessions", field="orgs.members")


@router.get("/users/{name}/sessions", response_model=list[SessionPublic])
def sessions(name: str, user: CurrentUser, db: DbDep, session: SessionDep) -> list[SessionPublic]:
    """A user's live browser sessions (yourself, or a user you administer)."""
    if name != user.name:
        _may_manage(db, session, user, name)
    return [
        SessionPublic(
            id=i.session_id,
            created_at=i.created_at,
            expires_at=i.expires_at,
            last_seen_at=i.last_seen_at,
        )
        for i in list_sessions(session, name)
    ]


@router.delete("/users/{name}/sessions", response_model=SessionsEnded)
def end_sessions(name: str, user: CurrentUser, db: DbDep, session: SessionDep) -> SessionsEnded:
    """End all of a user's browser sessions (yourself, or a user you administer)."""
    if name != user.name:
        _may_manage(db, session, user, name)
    with db.write() as s:
        return SessionsEnded(ended=revoke_sessions(s, name, actor=user.name))
