"""Annotation pages: campaigns and progress, the labelling page (blind, escaped, htmx swap of
the next item), skip/discard, CSRF, and review by someone who did not label the item."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from qianmo.annotate import claim, progress, submit
from qianmo.standard import Status
from qianmo.store import Database, add_records, get_record, get_versions
from tests.helpers.annotate import make_campaign
from tests.helpers.records import make_record
from tests.helpers.web import sign_in

PAYLOAD = "<img src=x onerror=alert(1)>"
HX = {"HX-Request": "true"}
GUIDE = "# Guide\n\nAnswer **carefully**. <script>alert(2)</script> [x](javascript:alert(3))"


def _corpus(db: Database, n: int, text: str = "An answer.") -> list[str]:
    records = [
        make_record("qa", content={"question": f"{text} ({i})", "answer": text}) for i in range(n)
    ]
    with db.write() as s:
        return add_records(s, records, actor="t").added


def _assignment(html: str) -> str:
    found = re.search(r'id="task" data-assignment="([^"]*)"', html)
    assert found, html[:500]
    return found.group(1)


def _label(db: Database, who: str, answers: dict[str, str], name: str = "c1") -> None:
    task = claim(db, name, who)
    assert task is not None
    submit(db, task.assignment_id, who, answers)


def test_campaign_list_and_page_show_the_status_figures(db: Database, client: TestClient) -> None:
    _corpus(db, 3)
    make_campaign(db, "c1", "correct:choice[yes,no]", "quality:rating[1-5]", guidelines=GUIDE)
    _label(db, "a-maintainer", {"correct": "yes", "quality": "4"})
    sign_in(client, "a-annotator")
    listing = client.get("/annotate")
    assert listing.status_code == 200 and 'href="/annotate"' in listing.text  # in the nav
    assert 'href="/annotate/c1"' in listing.text and "2/18" in listing.text
    page = client.get("/annotate/c1").text
    p = progress(db, "c1")
    for q in p.questions:
        row = re.search(rf'data-question="{q["name"]}">(.*?)</tr>', page, re.S)
        assert row and f"<td>{q['labels']}</td><td>{q['needed']}</td>" in row.group(1)
    assert re.search(r'data-annotator="a-maintainer">.*?<td>active</td><td>1</td>', page, re.S)
    assert "<strong>carefully</strong>" in page
    assert "<script>alert(2)" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page


def test_labelling_page_is_escaped_blind_and_swaps_in_the_next_item(
    db: Database, client: TestClient
) -> None:
    _corpus(db, 2, PAYLOAD)
    make_campaign(db, "c1", "correct:choice[yes,no]", overlap=2)
    _label(db, "a-maintainer", {"correct": "no"})  # someone else's label on the first item
    csrf = sign_in(client, "a-annotator")
    page = client.get("/annotate/c1/label")
    assert page.status_code == 200
    assert PAYLOAD not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "a-maintainer" not in page.text  # blind: nobody else's labels or names
    assert '<script src="/static/annotate.js"' in page.text
    first = _assignment(page.text)
    url = f"/annotate/c1/label/{first}"
    # no answer: the same item again, with the reason
    again = client.post(url, data={"csrf_token": csrf, "action": "submit"}, headers=HX)
    assert again.text.startswith('<div id="task"') and _assignment(again.text) == first
    assert "answers.correct: an answer is required" in again.text
    # answered: the fragment of the next item (no layout around it), with progress
    nxt = client.post(url, data={"csrf_token": csrf, "q.correct": "yes"}, headers=HX)
    assert nxt.status_code == 200 and "<html" not in nxt.text
    second = _assignment(nxt.text)
    assert second and second != first, nxt.text
    assert '<strong data-count="mine">1</strong>' in nxt.text
    # the last item: nothing left after it
    done = client.post(
        f"/annotate/c1/label/{second}", data={"csrf_token": csrf, "q.correct": "no"}, headers=HX
    )
    assert "Nothing left for you" in done.text


def test_skip_returns_later_and_discard_never(db: Database, client: TestClient) -> None:
    _corpus(db, 2)
    make_campaign(db, "c1", overlap=1)
    csrf = sign_in(client, "a-annotator")
    first = _assignment(client.get("/annotate/c1/label").text)
    html = client.post(
        f"/annotate/c1/label/{first}", data={"csrf_token": csrf, "action": "skip"}, headers=HX
    ).text
    second = _assignment(html)
    html = client.post(
        f"/annotate/c1/label/{second}", data={"csrf_token": csrf, "action": "discard"}, headers=HX
    ).text
    third = _assignment(html)  # the skipped item comes back; the discarded one never does
    html = client.post(
        f"/annotate/c1/label/{third}", data={"csrf_token": csrf, "action": "discard"}, headers=HX
    ).text
    assert "Nothing left for you" in html


def test_plain_form_posts_redirect_and_need_csrf(db: Database, client: TestClient) -> None:
    _corpus(db, 1)
    make_campaign(db, "c1", overlap=1)
    csrf = sign_in(client, "a-annotator")
    aid = _assignment(client.get("/annotate/c1/label").text)
    refused = client.post(f"/annotate/c1/label/{aid}", data={"q.correct": "yes"})
    assert refused.status_code == 403
    bad = client.post(f"/annotate/c1/label/{aid}", data={"csrf_token": csrf, "q.correct": "maybe"})
    assert bad.status_code == 400 and "is not one of yes, no, unsure" in bad.text
    ok = client.post(
        f"/annotate/c1/label/{aid}",
        data={"csrf_token": csrf, "q.correct": "yes"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/annotate/c1/label"
    assert progress(db, "c1").done


def test_viewers_may_not_label(db: Database, client: TestClient) -> None:
    _corpus(db, 1)
    make_campaign(db, "c1", overlap=1)
    sign_in(client, "a-viewer")
    page = client.get("/annotate/c1/label")
    assert "may not take part" in page.text and 'id="task" data-assignment=""' in page.text


def test_review_by_someone_who_did_not_label(db: Database, client: TestClient) -> None:
    (rid,) = _corpus(db, 1, PAYLOAD)
    make_campaign(db, "c1", "correct:choice[yes,no]", "fix:rewrite[answer]", overlap=2)
    _label(db, "a-annotator", {"correct": "yes", "fix": ""})
    _label(db, "a-reviewer", {"correct": "no", "fix": "Escape the output."})
    # a-reviewer labelled it: not offered, and refused when asked directly
    csrf = sign_in(client, "a-reviewer")
    queue = client.get("/annotate/c1/review").text
    assert "Nothing to review" in queue and "data-item=" not in queue
    csrf = sign_in(client, "a-maintainer")
    queue = client.get("/annotate/c1/review").text
    (item_id,) = re.findall(r'data-item="([^"]+)"', queue)
    page = client.get(f"/annotate/c1/review/{item_id}").text
    assert 'data-annotator="a-annotator"' in page and 'data-annotator="a-reviewer"' in page
    assert PAYLOAD not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    sign_in(client, "a-reviewer")
    assert client.get(f"/annotate/c1/review/{item_id}").status_code == 403
    csrf = sign_in(client, "a-maintainer")
    done = client.post(
        f"/annotate/c1/review/{item_id}",
        data={
            "csrf_token": csrf,
            "decision": "correct",
            "q.correct": "yes",
            "q.fix": "Escape the output with a template engine.",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/annotate/c1/review"
    with db.read() as s:
        rec = get_record(s, rid)
        versions = get_versions(s, rid)
    assert rec.status is Status.ACCEPTED
    assert rec.content["answer"] == "Escape the output with a template engine."
    step = versions[-1].lineage.steps[-1]
    assert (step.name, step.detail["reviewer"]) == ("c1", "a-maintainer")
    record_page = client.get(f"/records/{rid}").text
    assert "campaign · c1" in record_page and "annotate.writeback" in record_page


def test_a_bad_review_decision_shows_the_reason(db: Database, client: TestClient) -> None:
    _corpus(db, 1)
    make_campaign(db, "c1", "correct:choice[yes,no]", overlap=2)
    _label(db, "a-annotator", {"correct": "yes"})
    _label(db, "a-reviewer", {"correct": "no"})
    csrf = sign_in(client, "a-maintainer")
    (item_id,) = re.findall(r'data-item="([^"]+)"', client.get("/annotate/c1/review").text)
    bad = client.post(
        f"/annotate/c1/review/{item_id}",
        data={"csrf_token": csrf, "decision": "correct", "q.correct": "perhaps"},
    )
    assert bad.status_code == 400 and "answers.correct" in bad.text
