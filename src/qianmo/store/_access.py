"""The one access rule: who may see a record, as a function and as a query condition.

CLEAR and GREEN: every member of any organisation. AMBER: the contributing organisation and
its partners. AMBER+STRICT: the contributing organisation only. RED: only users named in the
record's restrictions (`user:NAME`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Select, String, and_, any_, false, or_, select
from sqlalchemy.orm import Session, aliased

from qianmo.standard import TLP, Record
from qianmo.store._models import MembershipRow, OrgPartnerRow, OrgRow, RecordRow, UserRow
from qianmo.store._prepared import arg


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user's name, the organisations they belong to and those orgs' partners."""

    name: str
    orgs: frozenset[str] = field(default_factory=frozenset)
    partner_orgs: frozenset[str] = field(default_factory=frozenset)
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def is_member(self) -> bool:
        return bool(self.orgs)


def load_viewer(session: Session, user_name: str) -> Viewer:
    rows = session.execute(
        select(OrgRow.id, OrgRow.name, MembershipRow.role)
        .join(MembershipRow, MembershipRow.org_id == OrgRow.id)
        .join(UserRow, UserRow.id == MembershipRow.user_id)
        .where(UserRow.name == user_name, UserRow.is_active.is_(True))
    ).all()
    org_ids = [r.id for r in rows]
    partners = session.execute(
        select(OrgRow.name)
        .join(OrgPartnerRow, OrgPartnerRow.partner_id == OrgRow.id)
        .where(OrgPartnerRow.org_id.in_(org_ids))
    ).scalars()
    return Viewer(
        name=user_name,
        orgs=frozenset(r.name for r in rows),
        partner_orgs=frozenset(partners),
        roles={r.name: r.role for r in rows},
    )


_Partner = aliased(OrgRow)


def with_viewer_columns(query: Select[Any], user_id: Any) -> Select[Any]:
    """`query` plus three last columns (org, role, partner): one row per membership and
    partner of that org, so the request's user and their viewer come in one query."""
    return (
        query.add_columns(OrgRow.name, MembershipRow.role, _Partner.name)
        .outerjoin(MembershipRow, MembershipRow.user_id == user_id)
        .outerjoin(OrgRow, OrgRow.id == MembershipRow.org_id)
        .outerjoin(OrgPartnerRow, OrgPartnerRow.org_id == MembershipRow.org_id)
        .outerjoin(_Partner, _Partner.id == OrgPartnerRow.partner_id)
    )


def viewer_from_rows(name: str, rows: Iterable[Any]) -> Viewer:
    """The viewer from `with_viewer_columns` rows (the same as `load_viewer` gives)."""
    roles: dict[str, str] = {}
    partners: set[str] = set()
    for row in rows:
        org, role, partner = row[-3], row[-2], row[-1]
        if org is not None:
            roles[org] = role
        if partner is not None:
            partners.add(partner)
    return Viewer(name, frozenset(roles), frozenset(partners), roles)


def can_see(viewer: Viewer, record: Record) -> bool:
    tlp, org = record.source.tlp, record.source.org
    if tlp is TLP.RED:
        return f"user:{viewer.name}" in record.restrictions
    if not viewer.is_member:
        return False
    if tlp in (TLP.CLEAR, TLP.GREEN):
        return True
    if tlp is TLP.AMBER:
        return org in viewer.orgs or org in viewer.partner_orgs
    return org in viewer.orgs  # AMBER+STRICT


def access_key(viewer: Viewer, *, arrays: bool = False) -> Hashable:
    """All that `visible_condition(viewer, name_as_arg=True)` bakes into a statement (with
    `orgs_as_arrays` when `arrays`: only whether the viewer is a member): kept statements
    built with it are cached by this and run with `access_params(viewer, arrays=arrays)`."""
    if arrays:
        return viewer.is_member
    return viewer.orgs, viewer.partner_orgs


# The runtime parameter of `visible_condition(viewer, name_as_arg=True)`: the LIKE pattern that
# finds the viewer's name among a RED record's restrictions (`named_pattern`).
NAMED_ARG = "access_named"


def named_pattern(viewer: Viewer) -> str:
    """The LIKE pattern (escape character `/`) matching `"user:NAME"` anywhere in the JSON
    restrictions; escaped so that a `_` or `%` in a name cannot act as a wildcard and match
    somebody else's name."""
    named = f'"user:{viewer.name}"'
    escaped = named.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


# The runtime parameters of `visible_condition(viewer, orgs_as_arrays=True)`: the viewer's
# organisations, and those with their partners, as arrays.
OWN_ARG, SHARED_ARG = "access_own", "access_shared"


def access_params(viewer: Viewer | None, *, arrays: bool = False) -> dict[str, Any]:
    """The runtime parameters of a statement built with `name_as_arg` (and `orgs_as_arrays`
    when `arrays`) for this viewer."""
    if viewer is None:
        return {}
    params: dict[str, Any] = {NAMED_ARG: named_pattern(viewer)}
    if arrays:
        params[OWN_ARG] = sorted(viewer.orgs)
        params[SHARED_ARG] = sorted(viewer.orgs | viewer.partner_orgs)
    return params


def visible_condition(
    viewer: Viewer, *, name_as_arg: bool = False, orgs_as_arrays: bool = False
) -> ColumnElement[bool]:
    """The same rule as `can_see`, as a WHERE condition on the records table.

    With `name_as_arg` the viewer's name is not in the statement but a runtime parameter
    (`NAMED_ARG`, valued `named_pattern(viewer)`: `access_params`), so one compiled statement
    serves everyone with the same organisations (`access_key`); a claim statement took ~4 ms
    to compile, once per annotator and server process. Not given, the parameter is NULL and
    matches nothing: the statement then hides RED records rather than show somebody else's.

    With `orgs_as_arrays` (PostgreSQL only: `= ANY(array)`) the organisations are runtime
    parameters too (`OWN_ARG`, `SHARED_ARG`), so the statement's text is the same for every
    member, however many organisations they have: PostgreSQL keeps one prepared plan for it
    per connection, and a server can plan it before its first request (`warm_up`)."""
    pattern = arg(NAMED_ARG) if name_as_arg else named_pattern(viewer)
    red_named = RecordRow.data["restrictions"].as_string().like(pattern, escape="/")
    red = and_(RecordRow.tlp.concat("") == TLP.RED.value, red_named)
    if not viewer.is_member:
        return or_(red, false())
    own, shared = list(viewer.orgs), list(viewer.orgs | viewer.partner_orgs)
    own_org: ColumnElement[bool] = RecordRow.org.in_(own)
    shared_org: ColumnElement[bool] = RecordRow.org.in_(shared)
    if orgs_as_arrays:
        own_org = RecordRow.org == any_(arg(OWN_ARG, ARRAY(String())))
        shared_org = RecordRow.org == any_(arg(SHARED_ARG, ARRAY(String())))
    # `tlp || ''` keeps SQLite from answering this OR through the tlp index: that plan reads
    # every visible row and sorts them all (a temp B-tree) before `ORDER BY id LIMIT n`,
    # seconds at 100,000 records; walking the id index stops after n rows.
    tlp = RecordRow.tlp.concat("")
    return or_(
        tlp.in_([TLP.CLEAR.value, TLP.GREEN.value]),
        and_(tlp == TLP.AMBER.value, shared_org),
        and_(tlp == TLP.AMBER_STRICT.value, own_org),
        red,
    )
