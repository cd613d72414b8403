"""Release pages: the list with a request form (check, then build as a job), and a release's
page with its card, decision summary, splits and downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from qianmo.circulate import USES, visible_releases
from qianmo.store import get_artifact, permits
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._markdown import split_front_matter
from qianmo.web._releases import MANAGE, ReleaseSpec, check_release, check_summary, fetch_release
from qianmo.web._releases import start_build as queue_build
from qianmo.web._security import check_csrf
from qianmo.web._templates import NavItem, render

router = APIRouter()
NAV = [NavItem("Releases", "/releases", order=60)]
Field = Annotated[str, Form(max_length=400)]


def _spec(name: str, audience: str, use: str, filters: str, approver: str) -> ReleaseSpec:
    # Space- or comma-separated, as on the command line.
    return ReleaseSpec(
        name=name.strip(),
        audience=audience.replace(",", " ").split(),
        use=use,
        filters=filters.split(),
        approver=approver.strip() or None,
    )


BLANK = {"name": "", "version": "1.0.0", "audience": "members", "use": "research"}


def _page(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    form: dict[str, str] | None = None,
    result: dict[str, object] | None = None,
) -> Response:
    context = {
        "releases": visible_releases(session, user.viewer),
        "may_manage": permits(user.viewer, MANAGE),
        "uses": USES,
        "form": {"filters": "", "approver": "", **BLANK, **(form or {})},
        "result": result,
    }
    return render(request, "releases.html", context)


@router.get("/releases")
def releases_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return _page(request, user, session)


@router.post("/releases/check")
def check_page(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    session: SessionDep,
    name: Field,
    audience: Field,
    use: Field,
    filters: Field = "",
    approver: Field = "",
    version: Field = "1.0.0",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    report = check_release(db, user, _spec(name, audience, use, filters, approver))
    form = {"name": name, "audience": audience, "use": use, "filters": filters}
    form |= {"approver": approver, "version": version}
    return _page(request, user, session, form=form, result=check_summary(report))


@router.post("/releases/build")
def build_page(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    name: Field,
    audience: Field,
    use: Field,
    version: Field,
    filters: Field = "",
    approver: Field = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    queue_build(db, user, _spec(name, audience, use, filters, approver), version.strip())
    return RedirectResponse("/jobs", status_code=303)


@router.get("/releases/{name}/{version}")
def release_page(
    request: Request, name: str, version: str, user: CurrentUser, db: DbDep, session: SessionDep
) -> Response:
    row = fetch_release(db, session, user, name, version)
    card = get_artifact(session, row.card_artifact or "").data.decode("utf-8")
    front_matter, body = split_front_matter(card)
    request_shown = {k: v for k, v in row.request.items() if k != "directory"}
    api = f"/api/v1/releases/{row.name}/{row.version}"
    return render(
        request,
        "release.html",
        {
            "r": row,
            "s": row.summary,
            "req": request_shown,
            "front_matter": front_matter,
            "card_body": body,
            "api": api,
        },
    )
