"""Annotation pages: the campaigns, a campaign's progress, and the keyboard-driven labelling
page whose next item arrives by an htmx swap. Labels of others never appear here (blind)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from qianmo.annotate import (
    Progress,
    Question,
    Task,
    campaign_questions,
    claim,
    get_campaign,
    let_go,
    list_campaigns,
    progress,
    submit_next,
)
from qianmo.errors import QianmoError
from qianmo.store import Database
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._security import CSRF_FIELD, check_csrf
from qianmo.web._templates import NavItem, render
from qianmo.web.pages._annotate_forms import answers_of, content, fields, taxonomy_codes

router = APIRouter()
NAV = [NavItem("Annotate", "/annotate", order=30)]
ACTIONS = ("submit", "skip", "discard")


def _summary(p: Progress) -> dict[str, Any]:
    needed = sum(q["needed"] for q in p.questions)
    items = sum(p.items.values())
    return {
        "labels": p.labels,
        "needed": needed,
        "total": items,
        "settled": p.items.get("settled", 0),
        "review": p.items.get("review", 0),
    }


def _mine(p: Progress, user: str) -> dict[str, Any]:
    for a in p.annotators:
        if a["annotator"] == user:
            return a
    return {"labelled": 0, "gold_seen": 0, "status": "active"}


@router.get("/annotate")
def campaigns_page(request: Request, user: CurrentUser, db: DbDep, session: SessionDep) -> Response:
    rows = [(c, _summary(progress(db, c.name))) for c in list_campaigns(session)]
    return render(request, "annotate_campaigns.html", {"campaigns": rows})


@router.get("/annotate/{name}")
def campaign_page(
    request: Request, name: str, user: CurrentUser, db: DbDep, session: SessionDep
) -> Response:
    campaign = get_campaign(session, name)
    p = progress(db, name)
    return render(
        request,
        "annotate_campaign.html",
        {
            "c": campaign,
            "questions": campaign_questions(session, name),
            "p": p,
            "summary": _summary(p),
        },
    )


def _task_context(
    db: Database,
    name: str,
    user: str,
    *,
    error: str = "",
    given: dict[str, Any] | None = None,
    claimed: tuple[Task | None] | None = None,
) -> dict[str, Any]:
    """Claim (or re-show the live lease of) the user's next item — unless a submit already
    `claimed` it in its transaction; with progress figures."""
    task: Task | None = None
    if claimed is not None:
        (task,) = claimed
    else:
        try:
            task = claim(db, name, user)
        except QianmoError as e:
            error = error or str(e)
    p = progress(db, name)
    ctx: dict[str, Any] = {
        "name": name,
        "task": task,
        "error": error,
        "summary": _summary(p),
        "mine": _mine(p, user),
    }
    if task is not None:
        ctx["fields"] = fields(task.questions, task.record, given or {})
        ctx["content"] = content(task.record)
        ctx["taxonomy"] = taxonomy_codes(task.questions)
    return ctx


@router.get("/annotate/{name}/label")
def label_page(
    request: Request, name: str, user: CurrentUser, db: DbDep, session: SessionDep
) -> Response:
    campaign = get_campaign(session, name)
    ctx = _task_context(db, name, user.name)
    return render(request, "annotate_label.html", {**ctx, "c": campaign})


def _act(db: Database, name: str, assignment_id: str, user: str, form: Any) -> dict[str, Any]:
    """Do what the form asks; the next task's context (or this one's again, on an error)."""
    action = str(form.get("action") or "submit")
    answers = answers_of(form, _questions(db, name))
    try:
        if action not in ACTIONS:
            raise QianmoError(f"unknown action {action!r}", field="action")
        if action == "submit":
            duration = str(form.get("duration_ms") or "")
            ms = int(duration) if duration.isdigit() and len(duration) < 10 else None
            # The next item is claimed in the submit's own transaction (as the API's ?next=true).
            both = submit_next(db, assignment_id, user, answers, duration_ms=ms, campaign=name)
            return _task_context(db, name, user, error=both.refused, claimed=(both.task,))
        let_go(db, assignment_id, user, discard=action == "discard")
    except QianmoError as e:
        return _task_context(db, name, user, error=str(e), given=answers)
    return _task_context(db, name, user)


@router.post("/annotate/{name}/label/{assignment_id}")
async def label_post(
    request: Request, name: str, assignment_id: str, user: CurrentUser, db: DbDep
) -> Response:
    """Submit, skip or discard; htmx gets the next item's fragment, a plain form a redirect."""
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    ctx = await run_in_threadpool(_act, db, name, assignment_id, user.name, form)
    if request.headers.get("hx-request") == "true":
        return render(request, "_annotate_task.html", ctx)
    if ctx["error"]:
        campaign = await run_in_threadpool(_campaign, db, name)
        return render(request, "annotate_label.html", {**ctx, "c": campaign}, status_code=400)
    return RedirectResponse(f"/annotate/{quote(name, safe='')}/label", status_code=303)


def _questions(db: Database, name: str) -> list[Question]:
    # A submit answers every current question of the campaign (see annotate.submit).
    with db.read() as s:
        return campaign_questions(s, name)


def _campaign(db: Database, name: str) -> Any:
    with db.read() as s:
        return get_campaign(s, name)
