"""The authorisation matrix: every record route × every role × own/partner/other organisation
× every TLP level, checked against expectations written out here, independently of the code.

org-a and org-b are partners; org-c stands alone. Users with every role sit in org-a;
`b-viewer`/`b_viewer` in org-b, `c-viewer` in org-c, `loner` in none.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from qianmo.standard import Record
from qianmo.store import Database, add_records, audit_entries, create_token
from tests.helpers.records import make_record

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
ORGS = ("org-a", "org-b", "org-c")
PARTNERS = {"org-a": {"org-b"}, "org-b": {"org-a"}, "org-c": set()}
RED_NAMED = ["user:a-viewer", "user:b-viewer", "user:loner"]
USERS = {
    "a-admin": "org-a",
    "a-maintainer": "org-a",
    "a-reviewer": "org-a",
    "a-annotator": "org-a",
    "a-contributor": "org-a",
    "a-viewer": "org-a",
    "b-viewer": "org-b",
    "b_viewer": "org-b",
    "c-viewer": "org-c",
    "loner": "",
}
# What each role may do in its own organisation (roles.yaml, restated by hand).
CAN_EDIT = {"admin", "maintainer", "contributor"}
CAN_REVIEW = {"admin", "maintainer", "reviewer"}
CAN_CREATE = {"admin", "maintainer", "contributor"}
MARK = "matrixmarker"


def expected_visible(user: str, rec: Record) -> bool:
    org, tlp = rec.source.org, rec.source.tlp.value
    mine = USERS[user]
    if tlp == "RED":
        return f"user:{user}" in rec.restrictions
    if not mine:
        return False
    if tlp in ("CLEAR", "GREEN"):
        return True
    if tlp == "AMBER":
        return org == mine or org in PARTNERS[mine]
    return org == mine


def role_of(user: str, org: str | None) -> str:
    return (
        user.split("-", 1)[1]
        if user.startswith("a-") and org == "org-a"
        else ("viewer" if USERS[user] == org else "")
    )


@pytest.fixture
def records(db: Database, world: dict[str, str]) -> list[Record]:
    recs = [
        make_record(
            content={"text": f"{MARK} {org} {tlp}"},
            source={"org": org, "tlp": tlp},
            restrictions=RED_NAMED if tlp == "RED" else [],
        )
        for org in ORGS
        for tlp in TLPS
    ]
    with db.write() as s:
        add_records(s, recs, actor="t")
    return recs


def _token(db: Database, user: str) -> dict[str, str]:
    with db.write() as s:
        _, secret = create_token(s, user, actor="t")
    return {"Authorization": f"Bearer {secret}"}


def test_reads_follow_the_rule(db: Database, client: TestClient, records: list[Record]) -> None:
    for user in sorted(USERS):
        _check_reads(user, db, client, records)


def _check_reads(user: str, db: Database, client: TestClient, records: list[Record]) -> None:
    h = _token(db, user)
    want = {r.id for r in records if expected_visible(user, r)}
    listed = client.get("/api/v1/records", params={"limit": 200}, headers=h).json()
    assert {i["id"] for i in listed["items"]} == want
    assert client.get("/api/v1/records/count", headers=h).json() == {"count": len(want)}
    stats = client.get("/api/v1/records/stats", params={"by": "tlp"}, headers=h).json()
    assert sum(s["count"] for s in stats) == len(want)
    for q in (MARK, "org-c AMBER"):  # the trigram path, and the phrase path
        hits = client.get("/api/v1/search", params={"q": q}, headers=h).json()["items"]
        assert {i["id"] for i in hits} == {r.id for r in records if r.id in want and q in r.text()}
    for r in records:
        code = 200 if r.id in want else 404
        assert client.get(f"/api/v1/records/{r.id}", headers=h).status_code == code, r.source
        assert client.get(f"/api/v1/records/{r.id}/versions", headers=h).status_code == code
    with db.read() as s:
        denied = [e for e in audit_entries(s, limit=500) if e.action == "access.denied"]
    assert {e.object_ids[0] for e in denied if e.actor == user} == {
        r.id for r in records if r.id not in want
    }


def test_writes_follow_the_rule_and_the_role(
    db: Database, client: TestClient, records: list[Record]
) -> None:
    for user in sorted(USERS):
        _check_writes(user, db, client, records)


def _check_writes(user: str, db: Database, client: TestClient, records: list[Record]) -> None:
    h = _token(db, user)
    for r in records:
        org = r.source.org
        visible = expected_visible(user, r)
        role = role_of(user, org)
        edit = client.patch(
            f"/api/v1/records/{r.id}", json={"tags": ["edited"], "note": "matrix"}, headers=h
        )
        status = client.post(
            f"/api/v1/records/{r.id}/status", json={"status": "accepted"}, headers=h
        )
        if not visible:
            assert (edit.status_code, status.status_code) == (404, 404)
            continue
        assert edit.status_code == (200 if role in CAN_EDIT else 403), (user, r.source)
        assert status.status_code == (200 if role in CAN_REVIEW else 403), (user, r.source)
    for org in ORGS:
        role = role_of(user, org)
        body = {
            "kind": "document",
            "content": {"text": f"new by {user} for {org}"},
            "source": {"name": "api", "org": org, "tlp": "GREEN"},
        }
        created = client.post("/api/v1/records", json=body, headers=h)
        assert created.status_code == (201 if role in CAN_CREATE else 400), (user, org)
        upload = client.post(
            "/api/v1/imports",
            data={"org": org},
            files={"file": ("x.jsonl", b'{"text": "x"}\n')},
            headers=h,
        )
        assert upload.status_code == (202 if role in CAN_CREATE else 403), (user, org)


def test_platform_routes_by_role(db: Database, client: TestClient) -> None:
    for user in sorted(USERS, reverse=True):  # the admin, who adds a user, comes last
        _check_platform(user, db, client)


def _check_platform(user: str, db: Database, client: TestClient) -> None:
    h = _token(db, user)
    admin = user == "a-admin"
    assert client.get("/api/v1/audit", headers=h).status_code == (200 if admin else 403)
    new_org = client.post("/api/v1/orgs", json={"name": f"new-{user}"}, headers=h)
    assert new_org.status_code == (201 if admin else 403)
    add_user = client.post(
        "/api/v1/users",
        json={
            "name": f"u{len(user)}{user[0]}",
            "password": "long-enough",
            "org": "org-a",
            "role": "viewer",
        },
        headers=h,
    )
    assert add_user.status_code == (201 if admin else 403)
    members = client.get("/api/v1/orgs/org-a/members", headers=h)
    assert members.status_code == (200 if USERS[user] == "org-a" else 404)
    assert client.get("/api/v1/orgs", headers=h).status_code == 200
    seen = {u["name"] for u in client.get("/api/v1/users", headers=h).json()}
    if admin:
        assert "c-viewer" in seen and "loner" in seen
    else:  # only those who share an organisation with them
        assert seen == {u for u, o in USERS.items() if o and o == USERS[user]}
