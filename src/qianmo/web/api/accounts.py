"""Organisations, users, your API tokens, and the audit log (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from qianmo.errors import NotFound
from qianmo.store import (
    audit_entries,
    create_org,
    create_token,
    create_user,
    get_org,
    list_orgs,
    list_tokens,
    list_users,
    permits,
    revoke_token,
    set_membership,
)
from qianmo.web._deps import CurrentUser, DbDep, Principal, SessionDep
from qianmo.web._errors import ErrorPublic
from qianmo.web._schemas import (
    AuditPublic,
    MemberPublic,
    MemberSet,
    MePublic,
    OrgCreate,
    OrgPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPublic,
)
from qianmo.web._services import audit_denied, refuse

ERRORS = {code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 422)}
router = APIRouter(responses=ERRORS)  # type: ignore[arg-type]


def _require(db: DbDep, user: Principal, permission: str, org: str | None, obj: str) -> None:
    if not permits(user.viewer, permission, org):
        audit_denied(db, user, "org" if org else "platform", obj)
        refuse(user, permission, org)


@router.get("/me", response_model=MePublic, tags=["users"])
def me(user: CurrentUser) -> MePublic:
    v = user.viewer
    return MePublic(
        name=v.name,
        orgs=sorted(v.orgs),
        partner_orgs=sorted(v.partner_orgs),
        roles=v.roles,
        read_only=user.read_only,
    )


@router.get("/orgs", response_model=list[OrgPublic], tags=["organisations"])
def orgs(user: CurrentUser, session: SessionDep) -> list[OrgPublic]:
    """Every organisation: names, partners and vetted marks are what audiences are built from."""
    return [
        OrgPublic(name=o.name, vetted=o.vetted, partners=o.partners, members=o.members)
        for o in list_orgs(session)
    ]


@router.post("/orgs", status_code=201, response_model=OrgPublic, tags=["organisations"])
def add_org(body: OrgCreate, user: CurrentUser, db: DbDep) -> OrgPublic:
    _require(db, user, "orgs.manage", None, body.name)
    with db.write() as s:
        create_org(s, body.name, actor=user.name, partners=body.partners, vetted=body.vetted)
    return OrgPublic(name=body.name, vetted=body.vetted, partners=sorted(body.partners), members=0)


def _member_view(user: Principal, org: str) -> bool:
    return org in user.viewer.orgs or permits(user.viewer, "orgs.manage")


@router.get("/orgs/{org}/members", response_model=list[MemberPublic], tags=["organisations"])
def members(org: str, user: CurrentUser, db: DbDep, session: SessionDep) -> list[MemberPublic]:
    """Members of an organisation you belong to (platform admins: any)."""
    get_org(session, org)
    if not _member_view(user, org):
        audit_denied(db, user, "org", org)
        raise NotFound(f"no organisation {org!r}", object_id=org)
    return [MemberPublic(user=u.name, role=u.roles[org]) for u in list_users(session, org=org)]


@router.put("/orgs/{org}/members", response_model=MemberPublic, tags=["organisations"])
def set_member(org: str, body: MemberSet, user: CurrentUser, db: DbDep) -> MemberPublic:
    """Add a user to the organisation or change their role (admins of that organisation)."""
    _require(db, user, "orgs.members", org, org)
    with db.write() as s:
        set_membership(s, body.user, org, body.role, actor=user.name)
    return MemberPublic(user=body.user, role=body.role)


@router.get("/users", response_model=list[UserPublic], tags=["users"])
def users(user: CurrentUser, session: SessionDep) -> list[UserPublic]:
    """Users who share an organisation with you (platform admins: everyone)."""
    everyone = permits(user.viewer, "orgs.manage")
    mine = user.viewer.orgs
    return [
        UserPublic(
            name=u.name,
            active=u.active,
            roles=u.roles if everyone else {o: r for o, r in u.roles.items() if o in mine},
        )
        for u in list_users(session)
        if everyone or mine & set(u.roles)
    ]


@router.post("/users", status_code=201, response_model=UserPublic, tags=["users"])
def add_user(body: UserCreate, user: CurrentUser, db: DbDep) -> UserPublic:
    """Create a user in an organisation you administer."""
    _require(db, user, "orgs.members", body.org, body.org)
    with db.write() as s:
        create_user(
            s, body.name, actor=user.name, password=body.password, org=body.org, role=body.role
        )
    return UserPublic(name=body.name, active=True, roles={body.org: body.role})


@router.get("/tokens", response_model=list[TokenPublic], tags=["tokens"])
def tokens(user: CurrentUser, session: SessionDep) -> list[TokenPublic]:
    """Your API tokens (never their secrets)."""
    return [
        TokenPublic(
            id=t.id,
            name=t.name,
            read_only=t.read_only,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            revoked=t.revoked,
        )
        for t in list_tokens(session, user=user.name)
    ]


@router.post("/tokens", status_code=201, response_model=TokenCreated, tags=["tokens"])
def new_token(body: TokenCreate, user: CurrentUser, db: DbDep) -> TokenCreated:
    """A new token for yourself; its secret is in this answer only."""
    with db.write() as s:
        row, secret = create_token(
            s, user.name, actor=user.name, name=body.name, read_only=body.read_only
        )
        s.flush()
        created = row.created_at
    return TokenCreated(
        id=row.id,
        name=row.name,
        read_only=row.read_only,
        created_at=created,
        revoked=False,
        token=secret,
    )


@router.delete("/tokens/{token_id}", status_code=204, tags=["tokens"])
def revoke(token_id: str, user: CurrentUser, db: DbDep) -> None:
    with db.write() as s:
        revoke_token(s, token_id, actor=user.name, user=user.name)


@router.get("/audit", response_model=list[AuditPublic], tags=["audit"])
def audit_log(
    user: CurrentUser,
    db: DbDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AuditPublic]:
    """The audit log, newest first (admins)."""
    _require(db, user, "audit.read", None, "audit")
    return [
        AuditPublic(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            action=e.action,
            object_type=e.object_type,
            object_ids=e.object_ids,
            count=e.count,
            digest=e.digest,
            hash=e.hash,
        )
        for e in audit_entries(session, limit=limit, action=action)
    ]
