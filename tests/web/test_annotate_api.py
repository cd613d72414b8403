"""The annotation API: campaigns and status, claim → submit/skip/discard, the review queue and
decisions; errors in the one JSON shape; session cookies need the CSRF header."""

from __future__ import annotations

from fastapi.testclient import TestClient

from qianmo.annotate import progress
from qianmo.store import Database, add_records, create_token
from tests.helpers.annotate import make_campaign
from tests.helpers.records import make_record
from tests.helpers.web import sign_in

API = "/api/v1/annotate"


def _bearer(db: Database, user: str) -> dict[str, str]:
    with db.write() as s:
        _, secret = create_token(s, user, actor="t")
    return {"Authorization": f"Bearer {secret}"}


def _corpus(db: Database, n: int) -> list[str]:
    with db.write() as s:
        return add_records(s, [make_record("qa") for _ in range(n)], actor="t").added


def _label(client: TestClient, h: dict[str, str], answers: dict[str, object]) -> dict:  # type: ignore[type-arg]
    task = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    assert task is not None
    done = client.post(
        f"{API}/assignments/{task['assignment_id']}/submit", json={"answers": answers}, headers=h
    )
    assert done.status_code == 200, done.text
    return done.json()  # type: ignore[no-any-return]


def test_campaigns_status_and_a_label_round_trip(db: Database, client: TestClient) -> None:
    _corpus(db, 2)
    make_campaign(db, "c1", "correct:choice[yes,no]", "quality:rating[1-5]", overlap=2)
    h = _bearer(db, "a-annotator")
    (listed,) = client.get(f"{API}/campaigns", headers=h).json()
    assert listed["name"] == "c1" and listed["overlap"] == 2
    assert [q["answers"] for q in listed["questions"]] == [["yes", "no"], ["1", "2", "3", "4", "5"]]
    assert client.get(f"{API}/campaigns/c1", headers=h).json() == listed
    task = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    assert task["record"]["kind"] == "qa" and "labels" not in task  # blind
    again = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    assert again["assignment_id"] == task["assignment_id"]  # the live lease, not a new one
    aid = task["assignment_id"]
    bad = client.post(
        f"{API}/assignments/{aid}/submit", json={"answers": {"correct": "yes"}}, headers=h
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["location"] == {"field": "answers.quality"}
    ok = client.post(
        f"{API}/assignments/{aid}/submit",
        json={"answers": {"correct": "yes", "quality": 4}, "duration_ms": 1200},
        headers=h,
    )
    assert ok.json() == {
        "item_id": task["item_id"],
        "labels": 2,
        "item_state": "open",
        "annotator_status": "active",
    }
    twice = client.post(
        f"{API}/assignments/{aid}/submit", json={"answers": {"correct": "no"}}, headers=h
    )
    assert twice.status_code == 400 and "already submitted" in twice.json()["error"]["message"]
    status = client.get(f"{API}/campaigns/c1/status", headers=h).json()
    assert status == progress(db, "c1").to_json()
    assert client.get(f"{API}/campaigns/nope/status", headers=h).status_code == 404


def test_skip_and_discard(db: Database, client: TestClient) -> None:
    _corpus(db, 2)
    make_campaign(db, "c1", overlap=1)
    h = _bearer(db, "a-annotator")
    first = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    skipped = client.post(f"{API}/assignments/{first['assignment_id']}/skip", headers=h)
    assert skipped.json()["state"] == "skipped"
    second = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    assert second["item_id"] != first["item_id"]
    client.post(f"{API}/assignments/{second['assignment_id']}/discard", headers=h)
    third = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    assert third["item_id"] == first["item_id"]  # the skipped one comes back
    client.post(f"{API}/assignments/{third['assignment_id']}/discard", headers=h)
    assert client.post(f"{API}/campaigns/c1/claim", headers=h).json() == {"task": None}
    other = _bearer(db, "a-reviewer")
    stolen = client.post(f"{API}/assignments/{third['assignment_id']}/skip", headers=other)
    assert stolen.status_code == 400 and stolen.json()["error"]["code"] == "bad_request"


def test_review_queue_and_decision(db: Database, client: TestClient) -> None:
    (rid,) = _corpus(db, 1)
    make_campaign(db, "c1", "correct:choice[yes,no]", overlap=2)
    _label(client, _bearer(db, "a-annotator"), {"correct": "yes"})
    done = _label(client, _bearer(db, "a-reviewer"), {"correct": "no"})
    assert done["item_state"] == "review"
    mine = _bearer(db, "a-reviewer")
    assert client.get(f"{API}/campaigns/c1/review", headers=mine).json() == []
    refused = client.post(
        f"{API}/campaigns/c1/review/{done['item_id']}", json={"decision": "accept"}, headers=mine
    )
    assert refused.status_code == 403 and "labelled this item" in refused.json()["error"]["message"]
    h = _bearer(db, "a-maintainer")
    (item,) = client.get(f"{API}/campaigns/c1/review", headers=h).json()
    assert {v["annotator"] for v in item["labels"]} == {"a-annotator", "a-reviewer"}
    assert client.get(f"{API}/campaigns/c1/review/{item['item_id']}", headers=h).json() == item
    settled = client.post(
        f"{API}/campaigns/c1/review/{item['item_id']}",
        json={"decision": "correct", "answers": {"correct": "no"}},
        headers=h,
    )
    assert settled.json() == {
        "item_id": item["item_id"],
        "decision": "correct",
        "result": {"correct": "no"},
    }
    record = client.get(f"/api/v1/records/{rid}", headers=h).json()
    assert record["status"] == "accepted" and "a-maintainer" in record["record"]["status_reason"]
    annotator = _bearer(db, "a-annotator")
    nope = client.get(f"{API}/campaigns/c1/review", headers=annotator)
    assert nope.status_code == 403  # annotators do not review


def test_session_cookies_need_the_csrf_header(db: Database, client: TestClient) -> None:
    _corpus(db, 1)
    make_campaign(db, "c1", overlap=1)
    csrf = sign_in(client, "a-annotator")
    assert client.post(f"{API}/campaigns/c1/claim").status_code == 403
    ok = client.post(f"{API}/campaigns/c1/claim", headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["task"] is not None


def test_the_label_routes_check_who_is_asking_before_anything(
    db: Database, client: TestClient
) -> None:
    """Claim and submit look up who is asking in their own worker thread on PostgreSQL: the
    same refusals as every route, and nothing is stored."""
    _corpus(db, 1)
    make_campaign(db, "c1", overlap=1)
    h = _bearer(db, "a-annotator")
    aid = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]["assignment_id"]
    submit = f"{API}/assignments/{aid}/submit?next=true"
    answer = {"answers": {"correct": "yes"}}
    assert client.post(f"{API}/campaigns/c1/claim").status_code == 401
    assert client.post(submit, json=answer).status_code == 401
    wrong = {"Authorization": "Bearer qm_not-a-token"}
    assert client.post(submit, json=answer, headers=wrong).status_code == 401
    with db.write() as s:
        _, secret = create_token(s, "a-annotator", actor="t", read_only=True)
    read_only = {"Authorization": f"Bearer {secret}"}
    refused = client.post(submit, json=answer, headers=read_only)
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]
    assert client.post(f"{API}/campaigns/c1/claim", headers=read_only).status_code == 403
    assert progress(db, "c1").labels == 0
    sign_in(client, "a-annotator")  # a session cookie without the CSRF header
    assert client.post(submit, json=answer).status_code == 403
    assert progress(db, "c1").labels == 0
    client.cookies.clear()
    assert client.post(submit, json=answer, headers=h).status_code == 200
    assert progress(db, "c1").labels == 1


def test_submit_with_next_claims_the_next_item_in_one_request(
    db: Database, client: TestClient
) -> None:
    _corpus(db, 3)
    make_campaign(db, "c1", overlap=2)
    h = _bearer(db, "a-annotator")
    task = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    seen: list[str] = []
    while task is not None:
        seen.append(task["item_id"])
        r = client.post(
            f"{API}/assignments/{task['assignment_id']}/submit?next=true",
            json={"answers": {"correct": "yes"}},
            headers=h,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["item_id"] == seen[-1] and body["labels"] == 1
        assert body["next_refused"] is None
        task = body["next"]
        if task is not None:
            assert task["item_id"] not in seen  # never one this annotator labelled
            assert "labels" not in task and task["record"]["kind"] == "qa"  # blind
            live = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
            assert live["assignment_id"] == task["assignment_id"]  # a real lease
    assert len(seen) == 3 and body["next"] is None  # none when the queue is empty
    assert client.post(f"{API}/campaigns/c1/claim", headers=h).json() == {"task": None}
    assert progress(db, "c1").labels == 3


def test_submit_with_next_refused_claims_nothing(db: Database, client: TestClient) -> None:
    _corpus(db, 2)
    make_campaign(db, "c1", overlap=1)
    h = _bearer(db, "a-annotator")
    task = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    bad = client.post(
        f"{API}/assignments/{task['assignment_id']}/submit?next=true",
        json={"answers": {"correct": "maybe"}},
        headers=h,
    )
    assert bad.status_code == 400 and "next" not in bad.json()
    live = client.post(f"{API}/campaigns/c1/claim", headers=h).json()["task"]
    assert live["assignment_id"] == task["assignment_id"]


def test_the_label_routes_are_matched_first_and_run_in_the_label_threads(
    db: Database, client: TestClient
) -> None:
    # Every annotator's every request is a claim or a submit: FastAPI tries routes in order, so
    # these come before every other route of the API (the schema lists the paths in order).
    api = list(client.get("/api/v1/openapi.json").json()["paths"])
    assert api[:2] == [
        f"{API}/campaigns/{{name}}/claim",
        f"{API}/assignments/{{assignment_id}}/submit",
    ]
    _corpus(db, 1)
    make_campaign(db, "c1", overlap=1)
    h = _bearer(db, "a-annotator")
    pool = client.app.state.label_threads  # type: ignore[attr-defined]
    assert not pool._threads  # started on first use
    assert _label(client, h, {"correct": "yes"})["labels"] == 1
    assert {t.name.split("_")[0] for t in pool._threads} == {"qianmo-label"}
