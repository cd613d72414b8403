"""The JSON API: paging, edits as versions with lineage, status changes, jobs, tokens, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from qianmo.store import Database, Worker, add_records, create_token, job_handler
from tests.helpers.records import make_record
from tests.helpers.web import sign_in


def _bearer(db: Database, user: str, read_only: bool = False) -> dict[str, str]:
    with db.write() as s:
        _, secret = create_token(s, user, actor="t", read_only=read_only)
    return {"Authorization": f"Bearer {secret}"}


def test_keyset_pages_cover_everything_once(db: Database, client: TestClient) -> None:
    recs = [make_record() for _ in range(7)]
    with db.write() as s:
        add_records(s, recs, actor="t")
    h = _bearer(db, "a-viewer")
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 3, **({"after": after} if after else {})}
        page = client.get("/api/v1/records", params=params, headers=h).json()
        seen += [i["id"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(r.id for r in recs)


def test_edit_makes_a_version_with_lineage(db: Database, client: TestClient) -> None:
    rec = make_record(source={"org": "org-a"})
    with db.write() as s:
        add_records(s, [rec], actor="t")
    h = _bearer(db, "a-contributor")
    body = {"content": {"text": "corrected text"}, "note": "typo"}
    edited = client.patch(f"/api/v1/records/{rec.id}", json=body, headers=h)
    assert edited.status_code == 200 and edited.json()["version"] == 2
    step = edited.json()["record"]["lineage"]["steps"][-1]
    assert step["type"] == "person" and step["name"] == "a-contributor"
    assert step["detail"]["note"] == "typo"
    versions = client.get(f"/api/v1/records/{rec.id}/versions", headers=h).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["record"]["content"]["text"] != "corrected text"
    bad = client.patch(f"/api/v1/records/{rec.id}", json={"content": {"nope": 1}}, headers=h)
    assert bad.status_code == 400 and bad.json()["error"]["location"]["field"]


def test_status_changes_by_role(db: Database, client: TestClient) -> None:
    rec = make_record(source={"org": "org-a"})
    with db.write() as s:
        add_records(s, [rec], actor="t")
    url = f"/api/v1/records/{rec.id}/status"
    reviewer, contributor = _bearer(db, "a-reviewer"), _bearer(db, "a-contributor")
    assert client.post(url, json={"status": "withdrawn"}, headers=reviewer).status_code == 403
    rejected = client.post(url, json={"status": "rejected", "reason": "dup"}, headers=reviewer)
    assert rejected.json()["status"] == "rejected"
    assert client.post(url, json={"status": "withdrawn"}, headers=contributor).status_code == 200
    assert client.post(url, json={"status": "raw"}, headers=reviewer).status_code == 422


def test_errors_have_one_shape(db: Database, client: TestClient) -> None:
    h = _bearer(db, "a-viewer")
    for response in (
        client.get("/api/v1/records/nope", headers=h),
        client.get("/api/v1/records", params={"filter": "colour=red"}, headers=h),
        client.get("/api/v1/records", params={"limit": 0}, headers=h),
        client.get("/api/v1/audit", headers=h),
        client.get("/api/v1/records"),
    ):
        assert response.status_code in (400, 401, 403, 404, 422)
        error = response.json()["error"]
        assert set(error) == {"code", "message", "location"} and error["message"]


def test_a_value_the_database_refuses_is_a_bad_request(db: Database, client: TestClient) -> None:
    # PostgreSQL text cannot hold NUL: the route answers 400 in the error shape, not 500;
    # SQLite stores it, and no entry has that action
    admin = _bearer(db, "a-admin")
    response = client.get("/api/v1/audit", params={"action": "\x00"}, headers=admin)
    if db.is_sqlite:
        assert response.status_code == 200 and response.json() == []
    else:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"


def test_read_only_tokens_and_cookie_csrf(db: Database, client: TestClient) -> None:
    rec = make_record(source={"org": "org-a"})
    with db.write() as s:
        add_records(s, [rec], actor="t")
    ro = _bearer(db, "a-admin", read_only=True)
    assert client.get(f"/api/v1/records/{rec.id}", headers=ro).status_code == 200
    denied = client.patch(f"/api/v1/records/{rec.id}", json={"tags": ["x"]}, headers=ro)
    assert denied.status_code == 403 and "read-only" in denied.json()["error"]["message"]
    assert (
        client.get("/api/v1/records", headers={"Authorization": "Bearer qm_wrong"}).status_code
        == 401
    )
    csrf = sign_in(client, "a-admin")
    url = f"/api/v1/records/{rec.id}"
    no_csrf = client.patch(url, json={"tags": ["x"]})
    assert no_csrf.status_code == 403, no_csrf.text  # a cookie alone: no
    assert (
        client.patch(url, json={"tags": ["x"]}, headers={"X-CSRF-Token": csrf}).status_code == 200
    )


def test_tokens_api_shows_the_secret_once(db: Database, client: TestClient) -> None:
    h = _bearer(db, "a-viewer")
    created = client.post("/api/v1/tokens", json={"name": "laptop"}, headers=h).json()
    secret = created["token"]
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["name"]
        == "a-viewer"
    )
    listed = client.get("/api/v1/tokens", headers=h).json()
    assert secret not in str(listed) and {t["name"] for t in listed} >= {"laptop"}
    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=h).status_code == 204
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


@job_handler("test.count")
def _count(ctx) -> dict[str, int]:  # type: ignore[no-untyped-def]
    for i in range(3):
        ctx.progress(i + 1, 3, f"step {i + 1}")
    return {"counted": 3}


def test_jobs_are_visible_to_their_owner_and_cancellable(db: Database, client: TestClient) -> None:
    from qianmo.store import enqueue

    with db.write() as s:
        mine = enqueue(s, "test.count", {}, actor="a-viewer")
        theirs = enqueue(s, "test.count", {}, actor="c-viewer")
    h = _bearer(db, "a-viewer")
    assert {j["id"] for j in client.get("/api/v1/jobs", headers=h).json()} == {mine}
    assert client.get(f"/api/v1/jobs/{theirs}", headers=h).status_code == 404
    assert client.post(f"/api/v1/jobs/{theirs}/cancel", headers=h).status_code == 404
    Worker(db, kinds=["test.count"]).run_one(mine)
    done = client.get(f"/api/v1/jobs/{mine}", headers=h).json()
    assert (done["status"], done["done"], done["total"], done["result"]) == (
        "done",
        3,
        3,
        {"counted": 3},
    )
    cancelled = client.post(f"/api/v1/jobs/{theirs}/cancel", headers=_bearer(db, "a-maintainer"))
    assert cancelled.json()["status"] == "cancelled"


def test_a_server_bug_answers_in_the_error_shape(app, db: Database) -> None:  # type: ignore[no-untyped-def]
    @app.get("/api/v1/_test/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/api/v1/_test/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "secret internals" not in response.text
