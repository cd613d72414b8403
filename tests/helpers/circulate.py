"""Factories for circulation tests: accepted records, a small directory, requests, orgs."""

from __future__ import annotations

from typing import Any

from qianmo.circulate import Audience, Directory, ReleaseRequest
from qianmo.standard import Record, new_id
from qianmo.store import Database, MembershipRow, OrgPartnerRow, OrgRow, UserRow
from tests.helpers.records import make_record

# org-a contributes; org-b is its (vetted) partner; org-c is neither.
DIRECTORY = Directory(
    partners={"org-a": frozenset({"org-b"}), "org-b": frozenset({"org-a"})},
    vetted=frozenset({"org-b"}),
    members=frozenset({"org-a", "org-b", "org-c"}),
    user_orgs={"alice": frozenset({"org-a"}), "bob": frozenset({"org-c"})},
)


def accepted(kind: str = "document", **overrides: Any) -> Record:
    overrides.setdefault("status", "accepted")
    overrides.setdefault("personal_info", "none")
    return make_record(kind, **overrides)


def request(audience: str = "members", use: str = "research", **kwargs: Any) -> ReleaseRequest:
    kwargs.setdefault("directory", DIRECTORY)
    return ReleaseRequest(
        name=kwargs.pop("name", "rel"),
        audience=Audience.parse(audience.split()),
        use=use,
        **kwargs,
    )


def add_orgs(db: Database) -> None:
    """The DIRECTORY's organisations, partnership and users as store rows."""
    with db.write() as s:
        ids = {name: new_id() for name in ("org-a", "org-b", "org-c")}
        for name, oid in ids.items():
            s.add(OrgRow(id=oid, name=name, vetted=name == "org-b"))
        s.flush()
        s.add(OrgPartnerRow(org_id=ids["org-a"], partner_id=ids["org-b"]))
        for user, org in (("alice", "org-a"), ("bob", "org-c"), ("carol", None)):
            uid = new_id()
            s.add(UserRow(id=uid, name=user))
            s.flush()
            if org:
                s.add(MembershipRow(user_id=uid, org_id=ids[org], role="member"))
