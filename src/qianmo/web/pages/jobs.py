"""The jobs page: live progress (htmx polls a fragment while work is running), and uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from qianmo.store import request_cancel
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._security import check_csrf
from qianmo.web._services import (
    ImportRequest,
    fetch_job,
    iter_upload,
    start_import,
    visible_jobs,
)
from qianmo.web._templates import render

router = APIRouter()
ACTIVE = {"queued", "running"}


def _context(session: SessionDep, user: CurrentUser) -> dict[str, object]:
    jobs = visible_jobs(session, user)
    return {"jobs": jobs, "polling": any(j.status in ACTIVE for j in jobs)}


@router.get("/jobs")
def jobs_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    orgs = sorted(user.viewer.orgs)
    return render(request, "jobs.html", {**_context(session, user), "orgs": orgs})


@router.get("/jobs/table")
def jobs_table(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return render(request, "_jobs_table.html", _context(session, user))


@router.post("/jobs/import")
async def upload(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    file: UploadFile,
    org: Annotated[str, Form(max_length=128)],
    csrf_token: Annotated[str, Form()] = "",
    format: Annotated[str, Form(max_length=32)] = "auto",
) -> Response:
    check_csrf(request, csrf_token)
    name = file.filename or "upload"
    start_import(
        db, user, request.app.state.uploads_dir, name, iter_upload(file), ImportRequest(org, format)
    )
    return RedirectResponse("/jobs", status_code=303)


@router.post("/jobs/{job_id}/cancel")
def cancel(
    request: Request,
    job_id: str,
    user: CurrentUser,
    db: DbDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    fetch_job(db, session, user, job_id)
    with db.write() as s:
        request_cancel(s, job_id, actor=user.name)
    return RedirectResponse("/jobs", status_code=303)
