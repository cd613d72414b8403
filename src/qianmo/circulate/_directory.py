"""Reads what a request's audience needs from the store: organisations, partners, vetted marks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from qianmo.circulate._request import Directory, ReleaseRequest
from qianmo.errors import QianmoError
from qianmo.store import MembershipRow, OrgPartnerRow, OrgRow, UserRow


def load_directory(session: Session) -> Directory:
    orgs = session.execute(select(OrgRow.name, OrgRow.vetted)).all()
    partner = aliased(OrgRow)
    pairs = session.execute(
        select(OrgRow.name, partner.name)
        .join(OrgPartnerRow, OrgPartnerRow.org_id == OrgRow.id)
        .join(partner, partner.id == OrgPartnerRow.partner_id)
    ).all()
    partners: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        # Partnership is mutual for sharing, whichever direction was stored.
        partners[a].add(b)
        partners[b].add(a)
    users = session.execute(
        select(UserRow.name, OrgRow.name)
        .join(MembershipRow, MembershipRow.user_id == UserRow.id)
        .join(OrgRow, OrgRow.id == MembershipRow.org_id)
        .where(UserRow.is_active.is_(True))
    ).all()
    user_orgs: dict[str, set[str]] = defaultdict(set)
    for user, org in users:
        user_orgs[user].add(org)
    return Directory(
        partners={k: frozenset(v) for k, v in partners.items()},
        vetted=frozenset(name for name, vetted in orgs if vetted),
        members=frozenset(name for name, _ in orgs),
        user_orgs={k: frozenset(v) for k, v in user_orgs.items()},
    )


def resolve(session: Session, request: ReleaseRequest) -> ReleaseRequest:
    """The request with the store's directory; an audience naming nobody known is an error."""
    directory = load_directory(session)
    unknown_orgs = sorted(request.audience.orgs - directory.members)
    if unknown_orgs:
        raise QianmoError(f"no organisation {unknown_orgs[0]!r}", field="audience")
    known_users = set(session.execute(select(UserRow.name)).scalars())
    unknown_users = sorted(request.audience.users - known_users)
    if unknown_users:
        raise QianmoError(f"no user {unknown_users[0]!r}", field="audience")
    return replace(request, directory=directory)
