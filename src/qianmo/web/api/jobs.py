"""Jobs (status, progress, cancel) and imports: an upload becomes an ingest job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile

from qianmo.store import JobRow, request_cancel
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._errors import ErrorPublic
from qianmo.web._schemas import JobCreated, JobPublic
from qianmo.web._services import ImportRequest, fetch_job, iter_upload, start_import, visible_jobs

ERRORS = {code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 422)}
router = APIRouter(tags=["jobs"], responses=ERRORS)  # type: ignore[arg-type]


def _public(row: JobRow) -> JobPublic:
    return JobPublic(
        id=row.id,
        kind=row.kind,
        status=row.status,
        actor=row.actor,
        done=row.done,
        total=row.total,
        message=row.message,
        error=row.error,
        result=row.result,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


@router.get("/jobs", response_model=list[JobPublic])
def list_(
    user: CurrentUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[JobPublic]:
    """Your jobs, newest first (maintainers and admins see everyone's)."""
    return [_public(j) for j in visible_jobs(session, user, limit=limit)]


@router.get("/jobs/{job_id}", response_model=JobPublic)
def get(job_id: str, user: CurrentUser, db: DbDep, session: SessionDep) -> JobPublic:
    return _public(fetch_job(db, session, user, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobPublic)
def cancel(job_id: str, user: CurrentUser, db: DbDep, session: SessionDep) -> JobPublic:
    """Cancel a queued job, or ask a running one to stop at its next progress report."""
    fetch_job(db, session, user, job_id)
    with db.write() as s:
        row = request_cancel(s, job_id, actor=user.name)
        return _public(row)


@router.post("/imports", status_code=202, response_model=JobCreated, tags=["imports"])
def create_import(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    file: UploadFile,
    org: Annotated[str, Form(max_length=128)],
    format: Annotated[str, Form(max_length=32)] = "auto",
    license: Annotated[str | None, Form(max_length=256)] = None,
    tlp: Annotated[str | None, Form(max_length=16)] = None,
    source: Annotated[str | None, Form(max_length=128)] = None,
) -> JobCreated:
    """Upload a file to import for an organisation; answers at once with the ingest job."""
    spec = ImportRequest(org=org, format=format, license=license, tlp=tlp, source=source)
    uploads = request.app.state.uploads_dir
    job_id = start_import(db, user, uploads, file.filename or "upload", iter_upload(file), spec)
    return JobCreated(job_id=job_id, status_url=f"/api/v1/jobs/{job_id}")
