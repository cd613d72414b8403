"""The records browser (filters, search, paging), a record's page and its download."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qianmo.standard import TLP, Kind, Status
from qianmo.store import RecordFilter
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._services import browse, fetch_record, record_versions
from qianmo.web._templates import NavItem, render
from qianmo.web.pages._readable import readable

router = APIRouter()
NAV = [NavItem("Records", "/records", order=10), NavItem("Jobs", "/jobs", order=90)]
FILTER_FIELDS = ("kind", "lang", "domain", "org", "source", "status", "tlp")
Text = Annotated[str, Query(max_length=200)]


@router.get("/records")
def records_page(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    kind: Text = "",
    lang: Text = "",
    domain: Text = "",
    org: Text = "",
    source: Text = "",
    status: Text = "",
    tlp: Text = "",
    q: Text = "",
    after: Text = "",
) -> Response:
    chosen = {
        "kind": kind,
        "lang": lang,
        "domain": domain,
        "org": org,
        "source": source,
        "status": status,
        "tlp": tlp,
    }
    flt = RecordFilter.of(**chosen)
    page = browse(session, user, flt, q=q, after=after or None)
    kept = {k: v for k, v in {**chosen, "q": q}.items() if v}
    next_url = (
        f"/records?{urlencode({**kept, 'after': page.next_after})}" if page.next_after else ""
    )
    return render(
        request,
        "records.html",
        {
            "records": page.records,
            "filters": chosen,
            "q": q,
            "next_url": next_url,
            "kinds": [k.value for k in Kind],
            "statuses": [s.value for s in Status],
            "tlps": [t.value for t in TLP],
        },
    )


@router.get("/records/{record_id}")
def record_page(
    request: Request, record_id: str, user: CurrentUser, db: DbDep, session: SessionDep
) -> Response:
    record = fetch_record(db, session, user, record_id)
    fields = [(k, readable(v)) for k, v in record.content.items()]
    return render(
        request,
        "record.html",
        {"r": record, "fields": fields, "versions": record_versions(session, record.id)},
    )


@router.get("/records/{record_id}/download")
def record_download(record_id: str, user: CurrentUser, db: DbDep, session: SessionDep) -> Response:
    """The record as JSON, always as an attachment: a browser never renders it."""
    record = fetch_record(db, session, user, record_id)
    body = orjson.dumps(record.to_json(), option=orjson.OPT_INDENT_2)
    headers = {"Content-Disposition": f'attachment; filename="{record.id}.json"'}
    return Response(body, media_type="application/json", headers=headers)
