"""Annotation test helpers: an organisation with users in given roles, and a labelled corpus."""

from __future__ import annotations

from typing import Any

from qianmo.annotate import Campaign, create_campaign, parse_config, parse_spec
from qianmo.standard import new_id
from qianmo.store import Database, MembershipRow, OrgRow, UserRow, add_records
from tests.helpers.records import make_record


def add_people(db: Database, role: str, *names: str, org: str = "org-a") -> None:
    """Users (created directly as rows, as the accounts service would) with `role` in `org`."""
    with db.write() as s:
        org_row = s.query(OrgRow).filter_by(name=org).one_or_none()
        if org_row is None:
            org_row = OrgRow(id=new_id(), name=org)
            s.add(org_row)
            s.flush()
        for name in names:
            user = UserRow(id=new_id(), name=name)
            s.add(user)
            s.flush()
            s.add(MembershipRow(user_id=user.id, org_id=org_row.id, role=role))


def add_corpus(db: Database, n: int, kind: str = "qa", **overrides: Any) -> list[str]:
    records = [make_record(kind, **overrides) for _ in range(n)]
    with db.write() as s:
        return add_records(s, records, actor="test").added


def make_campaign(
    db: Database, name: str = "c1", *specs: str, overlap: int = 3, **options: Any
) -> Campaign:
    questions = [parse_spec(s) for s in (specs or ("correct:choice[yes,no,unsure]",))]
    config = parse_config(
        overlap=overlap,
        filters=options.pop("filters", ["source=test"]),
        **{"gold_rate": 0.0, **options},
    )
    return create_campaign(db, name, questions, config, actor="maintainer")
