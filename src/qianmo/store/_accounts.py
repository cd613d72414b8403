"""Organisations (partners, vetted mark), users (argon2 hashes), memberships and API tokens.

Services only: the CLI and the web app call these, so both apply the same checks.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from qianmo.errors import NotFound, QianmoError
from qianmo.standard import new_id, utcnow
from qianmo.store._access import Viewer, viewer_from_rows, with_viewer_columns
from qianmo.store._audit import audit
from qianmo.store._models import MembershipRow, OrgPartnerRow, OrgRow, TokenRow, UserRow
from qianmo.store._prepared import WARM_RUNS, Prepared, arg
from qianmo.store._roles import check_role
from qianmo.store._sessions import end_user_sessions

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# ASCII names only: RED restrictions name users as `user:NAME` inside JSON, and the query form
# of the access rule matches that text, so a name must survive JSON encoding unchanged.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "qm_"
# argon2id, by default with the library's RFC 9106 low-memory profile. Made on first use:
# importing argon2 (its cffi binding) was 30 ms of every command's start, and only sign-in,
# passwords and tokens need it.
_HASHER_COST: dict[str, Any] = {}  # PasswordHasher's keyword arguments


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher(**_HASHER_COST)


@cache
def _dummy_hash() -> str:
    """Verified against when a user does not exist, so a failed login costs the same either
    way. Made on first use: hashing costs ~0.3 s of CPU, which every CLI start used to pay."""
    return _hasher().hash("not-a-real-password")


def configure_password_hashing(*, time_cost: int, memory_cost_kib: int) -> None:
    """Change argon2's cost (tests make it cheap); hashes already stored still verify."""
    _HASHER_COST.update(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1)
    _hasher.cache_clear()
    _dummy_hash.cache_clear()


def check_name(name: str, what: str) -> str:
    if not NAME_RE.match(name):
        raise QianmoError(
            f"{name!r}: a {what} name is 1-64 letters, digits, '.', '_' or '-'", field=what
        )
    return name


def get_org(session: Session, name: str) -> OrgRow:
    row = session.execute(select(OrgRow).where(OrgRow.name == name)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no organisation {name!r}", object_id=name)
    return row


def get_user(session: Session, name: str) -> UserRow:
    row = session.execute(select(UserRow).where(UserRow.name == name)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no user {name!r}", object_id=name)
    return row


def create_org(
    session: Session,
    name: str,
    *,
    actor: str,
    partners: Sequence[str] = (),
    vetted: bool = False,
) -> OrgRow:
    check_name(name, "organisation")
    if session.execute(select(OrgRow.id).where(OrgRow.name == name)).first():
        raise QianmoError(f"organisation {name!r} exists", object_id=name)
    row = OrgRow(id=new_id(), name=name, vetted=vetted)
    session.add(row)
    session.flush()
    for partner in partners:
        add_partner(session, name, partner, actor=actor)
    audit(session, actor=actor, action="org.create", object_type="org", object_ids=[name])
    return row


def add_partner(session: Session, org: str, partner: str, *, actor: str) -> None:
    """Partnership is mutual: both directions are stored, each once."""
    a, b = get_org(session, org), get_org(session, partner)
    if a.id == b.id:
        raise QianmoError("an organisation cannot partner itself", object_id=org)
    for x, y in ((a, b), (b, a)):
        if session.get(OrgPartnerRow, (x.id, y.id)) is None:
            session.add(OrgPartnerRow(org_id=x.id, partner_id=y.id))
    audit(session, actor=actor, action="org.partner", object_type="org", object_ids=[org, partner])


def set_vetted(session: Session, org: str, vetted: bool, *, actor: str) -> None:
    get_org(session, org).vetted = vetted
    audit(session, actor=actor, action="org.vetted", object_type="org", object_ids=[org])


@dataclass(frozen=True)
class OrgInfo:
    name: str
    vetted: bool
    partners: list[str]
    members: int
    created_at: datetime


def list_orgs(session: Session) -> list[OrgInfo]:
    orgs = list(session.execute(select(OrgRow).order_by(OrgRow.name)).scalars())
    by_id = {o.id: o.name for o in orgs}
    partners: dict[str, list[str]] = {o.id: [] for o in orgs}
    for p in session.execute(select(OrgPartnerRow)).scalars():
        partners[p.org_id].append(by_id[p.partner_id])
    counts: dict[str, int] = {}
    for m in session.execute(select(MembershipRow.org_id)).scalars():
        counts[m] = counts.get(m, 0) + 1
    return [
        OrgInfo(o.name, o.vetted, sorted(partners[o.id]), counts.get(o.id, 0), o.created_at)
        for o in orgs
    ]


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise QianmoError(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    return _hasher().hash(password)


def create_user(
    session: Session,
    name: str,
    *,
    actor: str,
    password: str | None = None,
    org: str | None = None,
    role: str | None = None,
) -> UserRow:
    check_name(name, "user")
    if session.execute(select(UserRow.id).where(UserRow.name == name)).first():
        raise QianmoError(f"user {name!r} exists", object_id=name)
    row = UserRow(
        id=new_id(), name=name, password_hash=hash_password(password) if password else None
    )
    session.add(row)
    session.flush()
    audit(session, actor=actor, action="user.create", object_type="user", object_ids=[name])
    if org is not None:
        set_membership(session, name, org, role or "viewer", actor=actor)
    return row


def set_password(
    session: Session, name: str, password: str, *, actor: str, keep_session_id: str | None = None
) -> int:
    """Set a new password and end the user's sessions (but the one that made the change);
    returns how many sessions ended."""
    get_user(session, name).password_hash = hash_password(password)
    audit(session, actor=actor, action="user.passwd", object_type="user", object_ids=[name])
    return end_user_sessions(session, name, keep_session_id=keep_session_id)


def authenticate(session: Session, name: str, password: str) -> UserRow | None:
    """The active user with this name and password, or None (same work either way)."""
    row = session.execute(select(UserRow).where(UserRow.name == name)).scalar_one_or_none()
    stored = row.password_hash if row is not None and row.password_hash else _dummy_hash()
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.password_hash or not row.is_active:
        return None
    if hasher.check_needs_rehash(row.password_hash):
        row.password_hash = hasher.hash(password)
    return row


def set_membership(session: Session, user: str, org: str, role: str, *, actor: str) -> None:
    """Give `user` the role in `org` (replacing any role they had there)."""
    check_role(role)
    u, o = get_user(session, user), get_org(session, org)
    row = session.get(MembershipRow, (u.id, o.id))
    if row is None:
        session.add(MembershipRow(user_id=u.id, org_id=o.id, role=role))
    else:
        row.role = role
    audit(session, actor=actor, action="org.member", object_type="user", object_ids=[user, org])


def remove_membership(session: Session, user: str, org: str, *, actor: str) -> None:
    u, o = get_user(session, user), get_org(session, org)
    session.execute(
        delete(MembershipRow).where(MembershipRow.user_id == u.id, MembershipRow.org_id == o.id)
    )
    audit(session, actor=actor, action="org.unmember", object_type="user", object_ids=[user, org])


@dataclass(frozen=True)
class UserInfo:
    name: str
    active: bool
    roles: dict[str, str]
    created_at: datetime


def list_users(session: Session, *, org: str | None = None) -> list[UserInfo]:
    """Users with their role in each organisation; only members of `org` when given."""
    query = (
        select(UserRow.name, UserRow.is_active, UserRow.created_at, OrgRow.name, MembershipRow.role)
        .outerjoin(MembershipRow, MembershipRow.user_id == UserRow.id)
        .outerjoin(OrgRow, OrgRow.id == MembershipRow.org_id)
        .order_by(UserRow.name)
    )
    users: dict[str, UserInfo] = {}
    for name, active, created, org_name, role in session.execute(query):
        info = users.setdefault(name, UserInfo(name, active, {}, created))
        if org_name is not None:
            info.roles[org_name] = role
    return [u for u in users.values() if org is None or org in u.roles]


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, user: str, *, actor: str, name: str = "", read_only: bool = False
) -> tuple[TokenRow, str]:
    """A new API token for `user`; the secret is returned once and only its hash is stored."""
    u = get_user(session, user)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = TokenRow(
        id=new_id(), user_id=u.id, token_hash=_token_hash(secret), name=name, read_only=read_only
    )
    session.add(row)
    audit(session, actor=actor, action="token.create", object_type="token", object_ids=[row.id])
    return row, secret


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user: str
    name: str
    read_only: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def list_tokens(session: Session, *, user: str | None = None) -> list[TokenInfo]:
    query = select(TokenRow, UserRow.name).join(UserRow, UserRow.id == TokenRow.user_id)
    if user is not None:
        query = query.where(UserRow.name == user)
    return [
        TokenInfo(
            t.id, uname, t.name, t.read_only, t.created_at, t.last_used_at, t.revoked_at is not None
        )
        for t, uname in session.execute(query.order_by(TokenRow.created_at))
    ]


def revoke_token(session: Session, token_id: str, *, actor: str, user: str | None = None) -> None:
    """Revoke a token; with `user`, only that user's own token (others answer NotFound)."""
    query = select(TokenRow).where(TokenRow.id == token_id)
    if user is not None:
        query = query.join(UserRow, UserRow.id == TokenRow.user_id).where(UserRow.name == user)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no token {token_id}", object_id=token_id)
    row.revoked_at = row.revoked_at or utcnow()
    audit(session, actor=actor, action="token.revoke", object_type="token", object_ids=[token_id])


@dataclass(frozen=True)
class TokenUser:
    user: str
    read_only: bool
    token_id: str
    last_used_at: datetime | None
    viewer: Viewer


# Looked up on every API request: compiled once, run on the DBAPI cursor (store/_prepared.py).
_TOKEN_USER = Prepared(
    with_viewer_columns(
        select(UserRow.name, TokenRow.id, TokenRow.read_only)
        .add_columns(TokenRow.last_used_at)
        .select_from(TokenRow)
        .join(UserRow, UserRow.id == TokenRow.user_id)
        .where(
            TokenRow.token_hash == arg("token_hash"),
            TokenRow.revoked_at.is_(None),
            UserRow.is_active.is_(True),
        ),
        UserRow.id,
    )
)


def prime_lookups(conn: Connection) -> None:
    """Run the token lookup of every API request WARM_RUNS times with a hash no token has, so
    this connection has prepared and planned it (`Database.warm`)."""
    for _ in range(WARM_RUNS):
        _TOKEN_USER.run(conn, {"token_hash": ""})


def user_for_token(conn: Connection, secret: str) -> TokenUser | None:
    """Who a presented token belongs to, with their viewer, if it is valid, unrevoked and its
    user active: one indexed query per request, so a revocation holds from the next request.
    `conn` a session's (`session.connection()`) or a bare one (`Database.lookup_connection`)."""
    rows = _TOKEN_USER.run(conn, {"token_hash": _token_hash(secret)}).rows
    if not rows:
        return None
    name, token_id, read_only, last_used = rows[0][:4]
    return TokenUser(name, bool(read_only), token_id, last_used, viewer_from_rows(name, rows))
