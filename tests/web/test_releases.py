"""Releases on the web: check (counts by rule), build as a job, list, read, card and export as
attachments, verify; who may do what, and no count of a record one may not see."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from qianmo.standard import Record
from qianmo.store import Database, add_records, run_job_inline
from tests.helpers.circulate import accepted
from tests.helpers.web import sign_in

REQUEST = {"name": "web-rel", "audience": ["members"], "use": "research"}


def _seed(db: Database) -> dict[str, Record]:
    recs = {
        "clear": accepted(),
        "clear2": accepted("qa", lang="zh"),
        "withdrawn": accepted(status="withdrawn"),
        "amber": accepted(source={"tlp": "AMBER"}),  # org-a's: org-a and partner org-b see it
        "strict-c": accepted(source={"org": "org-c", "tlp": "AMBER+STRICT"}),
    }
    with db.write() as s:
        add_records(s, list(recs.values()), actor="t")
    return recs


def _build(db: Database, client: TestClient, csrf: str, body: dict[str, object]) -> str:
    answer = client.post("/api/v1/releases", json=body, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 202, answer.text
    job = run_job_inline(db, answer.json()["job_id"])
    assert job.status == "done", job.error
    return str(job.result["version"])


def test_check_counts_only_what_the_maker_may_see(db: Database, client: TestClient) -> None:
    _seed(db)
    csrf = sign_in(client, "a-maintainer")
    answer = client.post("/api/v1/releases/check", json=REQUEST, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # org-c's AMBER+STRICT record is invisible to an org-a maintainer: in no count at all
    assert body["selected"] == 4
    assert body["allowed"] == 2
    assert body["denied_by_rule"] == {"status.withdrawn": 1, "tlp.audience": 1}
    assert body["refusal"] is None and len(body["decision_digest"]) == 64


def test_build_list_read_download_and_verify(db: Database, client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    recs = _seed(db)
    csrf = sign_in(client, "a-admin")
    _build(db, client, csrf, {**REQUEST, "version": "1.0.0"})
    listed = client.get("/api/v1/releases").json()
    assert [(r["name"], r["version"], r["records"]) for r in listed] == [("web-rel", "1.0.0", 2)]
    detail = client.get("/api/v1/releases/web-rel/1.0.0").json()
    assert detail["summary"]["left_out"] == {"status.withdrawn": 1, "tlp.audience": 1}
    assert "directory" not in detail["request"]

    card = client.get("/api/v1/releases/web-rel/1.0.0/card")
    assert card.headers["content-disposition"].startswith("attachment;")
    assert card.headers["x-content-type-options"] == "nosniff"
    assert card.text.startswith("---\n") and "web-rel" in card.text

    export = client.get("/api/v1/releases/web-rel/1.0.0/export", params={"format": "jsonl"})
    assert export.status_code == 200, export.text
    assert export.headers["content-disposition"].startswith("attachment;")
    assert export.headers["x-content-type-options"] == "nosniff"
    names = zipfile.ZipFile(io.BytesIO(export.content)).namelist()
    assert any(n.endswith("manifest.json") for n in names)
    rows = b"".join(
        zipfile.ZipFile(io.BytesIO(export.content)).read(n) for n in names if n.endswith(".jsonl")
    )
    assert recs["clear"].id.encode() in rows and recs["withdrawn"].id.encode() not in rows
    again = client.get("/api/v1/releases/web-rel/1.0.0/export", params={"format": "jsonl"})
    assert again.content == export.content  # kept, and stable

    url = "/api/v1/releases/web-rel/1.0.0/verify?format=jsonl"
    verified = client.post(url, headers={"X-CSRF-Token": csrf}).json()
    assert verified["ok"] is True and verified["checked"] > 0
    kept = Path(app.state.settings.home) / "exports" / "releases"
    data = next(p for p in kept.rglob("*.jsonl"))
    data.write_bytes(data.read_bytes() + b"{}\n")
    tampered = client.post(url, headers={"X-CSRF-Token": csrf}).json()
    assert tampered["ok"] is False and tampered["problems"]


def test_who_may_check_build_and_see(db: Database, client: TestClient) -> None:
    _seed(db)
    csrf = sign_in(client, "a-viewer")
    headers = {"X-CSRF-Token": csrf}
    refused = client.post("/api/v1/releases/check", json=REQUEST, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]
    body = {**REQUEST, "version": "1.0.0"}
    assert client.post("/api/v1/releases", json=body, headers=headers).status_code == 403
    # an org-a admin builds a release holding org-a's AMBER record, for partner org-b
    csrf = sign_in(client, "a-admin")
    amber = {"name": "to-b", "audience": ["org:org-b"], "use": "research", "version": "1.0.0"}
    _build(db, client, csrf, {**amber, "filters": ["tlp=AMBER"]})
    assert client.get("/api/v1/releases/to-b/1.0.0").status_code == 200
    # org-b sees AMBER records of its partner: the release too
    sign_in(client, "b-viewer")
    assert [r["name"] for r in client.get("/api/v1/releases").json()] == ["to-b"]
    # org-c may not see that record: no release, no card, no counts (404, as if absent)
    sign_in(client, "c-viewer")
    assert client.get("/api/v1/releases").json() == []
    for path in ("", "/card", "/export"):
        assert client.get(f"/api/v1/releases/to-b/1.0.0{path}").status_code == 404
    assert client.get("/releases/to-b/1.0.0").status_code == 404


def test_pages_request_check_build_and_show_a_release(db: Database, client: TestClient) -> None:
    _seed(db)
    csrf = sign_in(client, "a-maintainer")
    page = client.get("/releases")
    assert page.status_code == 200 and "Request a release" in page.text
    form = {
        "name": "<b>pg</b>",
        "audience": "members",
        "use": "research",
        "filters": "",
        "version": "1.0.0",
        "csrf_token": csrf,
    }
    checked = client.post("/releases/check", data=form)
    assert checked.status_code == 200, checked.text
    assert "&lt;b&gt;pg&lt;/b&gt;" in checked.text and "<b>pg</b>" not in checked.text
    assert "tlp.audience" in checked.text
    built = client.post("/releases/build", data={**form, "name": "pg"}, follow_redirects=False)
    assert built.status_code == 303 and built.headers["location"] == "/jobs"
    viewer_csrf = sign_in(client, "a-viewer")
    assert "Request a release" not in client.get("/releases").text
    refused = client.post("/releases/check", data={**form, "csrf_token": viewer_csrf})
    assert refused.status_code == 403
