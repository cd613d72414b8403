"""The access rule: `can_see` and its query form agree for every viewer and TLP level."""

from __future__ import annotations

import contextlib

from qianmo.errors import NotFound
from qianmo.store import (
    Database,
    add_records,
    can_see,
    count_records,
    get_record,
    iter_records,
    list_listings,
    list_records,
    load_viewer,
    record_stats,
    search_records,
)
from tests.helpers.accounts import make_world
from tests.helpers.records import make_record

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


def test_function_and_query_forms_agree(db: Database) -> None:
    users = make_world(db)
    recs = [
        make_record(
            content={"text": f"rule check {org} {tlp}"},
            source={"org": org, "tlp": tlp},
            restrictions=["user:b-viewer", "user:loner"] if tlp == "RED" else [],
        )
        for org in ("org-a", "org-b", "org-c")
        for tlp in TLPS
    ]
    with db.write() as s:
        add_records(s, recs, actor="t")
    with db.read() as s:
        for user in users:
            viewer = load_viewer(s, user)
            want = {r.id for r in recs if can_see(viewer, r)}
            assert {r.id for r in list_records(s, viewer=viewer, limit=100)} == want, user
            assert {r.id for r in iter_records(s, viewer=viewer, batch=4)} == want, user
            assert count_records(s, viewer=viewer) == len(want)
            assert sum(n for _, n in record_stats(s, "org", viewer=viewer)) == len(want)
            hits = search_records(s, "rule check", viewer=viewer, limit=100)
            assert {r.id for r in hits} == want, user
            # kept statements, compiled once per set of organisations (the name a parameter):
            # `b-viewer` comes before `b_viewer` of the same organisation
            assert {r.id for r in list_listings(s, viewer=viewer, limit=100)} == want, user
            opened = set()
            for r in recs:
                with contextlib.suppress(NotFound):
                    opened.add(get_record(s, r.id, viewer=viewer).id)
            assert opened == want, user
    red = {r.id for r in recs if r.source.tlp.value == "RED"}
    with db.read() as s:
        # `b_viewer` differs from the named `b-viewer` only where LIKE's `_` would match.
        assert not red & {r.id for r in list_records(s, viewer=load_viewer(s, "b_viewer"))}
        assert red <= {r.id for r in list_records(s, viewer=load_viewer(s, "loner"))}
