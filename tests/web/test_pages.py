"""Pages: the records browser, a record's page, downloads, the jobs page — all escaped."""

from __future__ import annotations

from fastapi.testclient import TestClient

from qianmo.store import Database, add_records
from qianmo.web.pages._readable import readable
from tests.helpers.records import make_record
from tests.helpers.web import sign_in

PAYLOAD = "<img src=x onerror=alert(1)>"


def _add(db: Database, *records: object) -> None:
    with db.write() as s:
        add_records(s, list(records), actor="t")  # type: ignore[arg-type]


def test_records_browser_filters_searches_and_pages(db: Database, client: TestClient) -> None:
    zh = make_record(
        "qa", lang="zh", content={"question": "什么是SQL注入攻击？", "answer": "注入。"}
    )
    docs = [make_record() for _ in range(3)]
    _add(db, zh, *docs)
    sign_in(client, "a-viewer")
    assert zh.id in client.get("/records?lang=zh").text
    assert docs[0].id not in client.get("/records?lang=zh").text
    found = client.get("/records", params={"q": "注入"}).text
    assert zh.id in found and docs[0].id not in found
    first = client.get("/records?kind=document&after=").text
    assert 'rel="next"' not in first
    ids = sorted(d.id for d in docs)
    paged = client.get("/records", params={"kind": "document"}).text
    assert all(i in paged for i in ids)


def test_record_page_shows_payloads_as_text(db: Database, client: TestClient) -> None:
    rec = make_record(content={"title": PAYLOAD, "text": f"{PAYLOAD} and '\"><script>x()</script>"})
    _add(db, rec)
    sign_in(client, "a-viewer")
    page = client.get(f"/records/{rec.id}").text
    assert PAYLOAD not in page and "<script>x()" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    listing = client.get("/records").text
    assert PAYLOAD not in listing
    download = client.get(f"/records/{rec.id}/download")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.json()["content"]["title"] == PAYLOAD


def test_record_page_lays_out_choices_and_turns_escaped(db: Database, client: TestClient) -> None:
    mcq = make_record(
        "mcq",
        content={
            "question": "Which flaw?",
            "choices": {"A": PAYLOAD, "B": "SQL injection"},
            "answer": "B",
        },
    )
    chat = make_record(
        "conversation",
        content={
            "messages": [
                {"role": "user", "content": "What is XSS?"},
                {"role": "assistant", "content": PAYLOAD},
            ]
        },
    )
    _add(db, mcq, chat)
    sign_in(client, "a-viewer")
    page = client.get(f"/records/{mcq.id}").text
    assert "A. &lt;img src=x onerror=alert(1)&gt;\nB. SQL injection" in page
    assert PAYLOAD not in page and '"A":' not in page
    turns = client.get(f"/records/{chat.id}").text
    assert "user: What is XSS?\n\nassistant: &lt;img src=x" in turns
    # shapes not laid out stay JSON: nothing hidden
    assert readable({"a": {"b": 1}}) == '{\n  "a": {\n    "b": 1\n  }\n}'
    assert readable([{"role": "user", "content": "x", "extra": 1}]).startswith("[")
    # a turn's name is part of what it says
    named = [{"role": "user", "name": "alice", "content": "hi"}, {"role": "user", "content": "yo"}]
    assert readable(named) == "user (alice): hi\n\nuser: yo"


def test_invisible_record_page_is_404(db: Database, client: TestClient) -> None:
    secret = make_record(source={"org": "org-c", "tlp": "AMBER+STRICT"})
    _add(db, secret)
    sign_in(client, "a-admin")
    assert client.get(f"/records/{secret.id}").status_code == 404
    assert client.get(f"/records/{secret.id}/download").status_code == 404
    assert secret.id not in client.get("/records").text
