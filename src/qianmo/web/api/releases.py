"""Releases: check a request, build one (a job), list and read them, download an export or the
dataset card, verify an export. Checking and building need `releases.manage`; reading a
release needs the right to see every record in it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from qianmo.circulate import visible_releases
from qianmo.store import get_artifact
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._errors import ErrorPublic
from qianmo.web._release_schemas import (
    CheckPublic,
    ReleaseBuild,
    ReleaseCreate,
    ReleaseDetail,
    ReleasePublic,
    VerifyPublic,
)
from qianmo.web._releases import (
    check_release,
    check_summary,
    export_zip,
    fetch_release,
    kept_export,
    start_build,
    verify_folder,
)
from qianmo.web._schemas import JobCreated

ERRORS = {code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 422)}
router = APIRouter(tags=["releases"], responses=ERRORS)  # type: ignore[arg-type]
Format = Annotated[Literal["parquet", "jsonl", "hf"], Query()]
ATTACHMENT = {"X-Content-Type-Options": "nosniff"}


@router.post("/releases/check", response_model=CheckPublic)
def check_(body: ReleaseCreate, user: CurrentUser, db: DbDep) -> CheckPublic:
    """What the request would release among the records you may see, and what the rules leave
    out, by rule. Writes one `release.check` audit entry."""
    report = check_release(db, user, body.spec())
    return CheckPublic(**check_summary(report))


@router.post("/releases", status_code=202, response_model=JobCreated)
def build(body: ReleaseBuild, user: CurrentUser, db: DbDep) -> JobCreated:
    """Build a release as a job (snapshot, splits, card) from the records you may see."""
    job_id = start_build(db, user, body.spec(), body.version)
    return JobCreated(job_id=job_id, status_url=f"/api/v1/jobs/{job_id}")


@router.get("/releases", response_model=list[ReleasePublic])
def list_(user: CurrentUser, session: SessionDep) -> list[ReleasePublic]:
    """Releases whose every record you may see."""
    return [ReleasePublic.of(r) for r in visible_releases(session, user.viewer)]


@router.get("/releases/{name}/{version}", response_model=ReleaseDetail)
def get(
    name: str, version: str, user: CurrentUser, db: DbDep, session: SessionDep
) -> ReleaseDetail:
    return ReleaseDetail.of(fetch_release(db, session, user, name, version))


@router.get("/releases/{name}/{version}/card", response_class=Response)
def card(name: str, version: str, user: CurrentUser, db: DbDep, session: SessionDep) -> Response:
    """The dataset card (README.md), as an attachment."""
    row = fetch_release(db, session, user, name, version)
    data = get_artifact(session, row.card_artifact or "").data
    disposition = f'attachment; filename="{row.name}-{row.version}-README.md"'
    headers = {**ATTACHMENT, "Content-Disposition": disposition}
    return Response(data, media_type="text/markdown; charset=utf-8", headers=headers)


@router.get("/releases/{name}/{version}/export", response_class=FileResponse)
def export(
    request: Request,
    name: str,
    version: str,
    user: CurrentUser,
    db: DbDep,
    session: SessionDep,
    format: Format = "parquet",
) -> FileResponse:
    """The export (card, NOTICE, manifest, data) zipped, as an attachment; made once, then kept."""
    row = fetch_release(db, session, user, name, version)
    folder = kept_export(request.app.state.settings, db, row, format)
    filename = f"{row.name}-{row.version}-{format}.zip"
    return FileResponse(
        export_zip(folder), media_type="application/zip", filename=filename, headers=ATTACHMENT
    )


@router.post("/releases/{name}/{version}/verify", response_model=VerifyPublic)
def verify(
    request: Request,
    name: str,
    version: str,
    user: CurrentUser,
    db: DbDep,
    session: SessionDep,
    format: Format = "parquet",
) -> VerifyPublic:
    """Check the kept export against its manifest (checksums and sizes, no extra files)."""
    row = fetch_release(db, session, user, name, version)
    folder = kept_export(request.app.state.settings, db, row, format)
    return VerifyPublic(**verify_folder(folder))
