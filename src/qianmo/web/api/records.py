"""Records: list (filters, keyset pages), count, stats, search, get, versions, create, edit,
status changes. Every read goes through the one access rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from qianmo.errors import QianmoError
from qianmo.standard import LineageStep, Record, Status, validate_record
from qianmo.store import (
    RecordFilter,
    add_records,
    count_records,
    get_record,
    permits,
    record_stats,
    save_version,
    search_listings,
    set_status,
)
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._errors import ErrorBody, ErrorPublic
from qianmo.web._schemas import (
    CountPublic,
    RecordCreate,
    RecordPage,
    RecordPublic,
    RecordUpdate,
    StatPublic,
    StatusChange,
    VersionPublic,
)
from qianmo.web._services import (
    PAGE_MAX,
    audit_denied,
    browse,
    fetch_record,
    record_versions,
    require_on_record,
)

ERRORS = {code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 422)}
router = APIRouter(tags=["records"], responses=ERRORS)  # type: ignore[arg-type]
Text = Annotated[str | None, Query(max_length=200)]
Filters = Annotated[
    list[str], Query(alias="filter", description="More KEY=VALUE conditions.", max_length=20)
]


async def _filter(
    kind: Text = None,
    lang: Text = None,
    domain: Text = None,
    org: Text = None,
    source: Text = None,
    status: Text = None,
    tlp: Text = None,
    filter: Filters = [],  # noqa: B006 — FastAPI copies query defaults per request
) -> RecordFilter:
    named = RecordFilter.of(
        kind=kind, lang=lang, domain=domain, org=org, source=source, status=status, tlp=tlp
    )
    return RecordFilter.parse([*filter, *named.to_list()])


FilterDep = Annotated[RecordFilter, Depends(_filter)]


@router.get("/records", response_model=RecordPage)
def list_(
    user: CurrentUser,
    session: SessionDep,
    flt: FilterDep,
    after: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
) -> RecordPage:
    """Visible records in id order; pass `next_after` back as `after` for the next page."""
    page = browse(session, user, flt, after=after, limit=limit)
    items = [RecordPublic.of_listing(r) for r in page.records]
    return RecordPage(items=items, next_after=page.next_after)


@router.get("/records/count", response_model=CountPublic)
def count(user: CurrentUser, session: SessionDep, flt: FilterDep) -> CountPublic:
    """How many visible records match: never more than the list would show."""
    return CountPublic(count=count_records(session, flt, viewer=user.viewer))


@router.get("/records/stats", response_model=list[StatPublic])
def stats(
    user: CurrentUser,
    session: SessionDep,
    flt: FilterDep,
    by: Annotated[str, Query(max_length=40)] = "kind",
) -> list[StatPublic]:
    """Counts of visible records grouped by a field (e.g. `kind`, `published_at:month`)."""
    rows = record_stats(session, by, flt, viewer=user.viewer)
    return [StatPublic(key=k, count=n) for k, n in rows]


@router.get("/search", response_model=RecordPage)
def search(
    user: CurrentUser,
    session: SessionDep,
    flt: FilterDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
) -> RecordPage:
    """Full-text search over visible records (Chinese substrings included), newest first."""
    hits = search_listings(session, q, flt=flt, viewer=user.viewer, limit=limit)
    return RecordPage(items=[RecordPublic.of_listing(r) for r in hits], next_after=None)


@router.get("/records/{record_id}", response_model=RecordPublic)
def get(record_id: str, user: CurrentUser, db: DbDep, session: SessionDep) -> RecordPublic:
    return RecordPublic.of(fetch_record(db, session, user, record_id))


@router.get("/records/{record_id}/versions", response_model=list[VersionPublic])
def versions(
    record_id: str, user: CurrentUser, db: DbDep, session: SessionDep
) -> list[VersionPublic]:
    """Every version of the record, oldest first; earlier ones stay readable."""
    fetch_record(db, session, user, record_id)
    return [
        VersionPublic(
            version=v.version,
            actor=v.actor,
            change=v.change,
            created_at=v.created_at,
            content_hash=v.content_hash,
            record=v.data,
        )
        for v in record_versions(session, record_id)
    ]


@router.post(
    "/records",
    status_code=201,
    response_model=RecordPublic,
    responses={409: {"model": ErrorPublic}},
)
def create(body: RecordCreate, user: CurrentUser, db: DbDep) -> RecordPublic | JSONResponse:
    """Add a record for one of your organisations (role with `records.create` there)."""
    data = body.model_dump()
    for server_side in ("id", "version", "status", "status_reason", "content_hash", "lineage"):
        data.pop(server_side, None)
    record = validate_record(data)
    org = record.source.org
    if not org or not permits(user.viewer, "records.create", org):
        audit_denied(db, user, "org", org or "")
        raise QianmoError(
            "set source.org to an organisation where you may create records", field="source.org"
        )
    step = LineageStep(type="person", name=user.name, detail={"action": "create"})
    record.lineage.steps.append(step)
    with db.write() as s:
        result = add_records(s, [record], actor=user.name, action="records.create")
    if not result.added:
        return JSONResponse(
            ErrorPublic(
                error=ErrorBody(code="conflict", message="this source already holds that record")
            ).model_dump(),
            status_code=409,
        )
    return RecordPublic.of(record)


@router.patch("/records/{record_id}", response_model=RecordPublic)
def edit(
    record_id: str, body: RecordUpdate, user: CurrentUser, db: DbDep, session: SessionDep
) -> RecordPublic:
    """Edit a record: a new version, with a lineage step naming who changed it and why."""
    current = fetch_record(db, session, user, record_id)
    require_on_record(db, user, current, "records.edit")
    data = current.model_dump(mode="json")
    changes = body.model_dump(exclude_unset=True, exclude={"note"})
    data.update({k: v for k, v in changes.items() if v is not None})
    edited: Record = validate_record(data)
    detail = {"action": "edit", "fields": sorted(changes), "note": body.note}
    step = LineageStep(type="person", name=user.name, detail=detail)
    with db.write() as s:
        new = save_version(s, edited, actor=user.name, change="records.edit", step=step)
    return RecordPublic.of(new)


@router.post("/records/{record_id}/status", response_model=RecordPublic)
def change_status(
    record_id: str, body: StatusChange, user: CurrentUser, db: DbDep, session: SessionDep
) -> RecordPublic:
    """Accept, reject, send to review (reviewers, maintainers) or withdraw (contributors)."""
    current = fetch_record(db, session, user, record_id)
    permission = "records.withdraw" if body.status == "withdrawn" else "records.review"
    require_on_record(db, user, current, permission)
    with db.write() as s:
        set_status(s, [record_id], Status(body.status), reason=body.reason, actor=user.name)
        return RecordPublic.of(get_record(s, record_id))
