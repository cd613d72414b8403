"""Review pages: the queue of items whose labels disagree, and one item to accept, correct or
reject. The service refuses a reviewer who labelled the item; the queue never offers it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from qianmo.annotate import campaign_questions, review_item, review_queue, settle
from qianmo.errors import QianmoError
from qianmo.store import Database
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._security import CSRF_FIELD, check_csrf
from qianmo.web._templates import render
from qianmo.web.pages._annotate_forms import (
    answer_text,
    answers_of,
    content,
    fields,
    form_values,
    taxonomy_codes,
)

router = APIRouter()
DECISIONS = ("accept", "correct", "reject")


@router.get("/annotate/{name}/review")
def queue_page(request: Request, name: str, user: CurrentUser, db: DbDep) -> Response:
    items = review_queue(db, name, user.name)
    return render(request, "annotate_review_queue.html", {"name": name, "items": items})


def _item_context(
    db: Database, name: str, item_id: str, user: str, given: dict[str, Any] | None = None
) -> dict[str, Any]:
    item = review_item(db, name, item_id, user)
    with db.read() as s:
        questions = campaign_questions(s, name)
    values = given if given is not None else form_values(questions, item.proposal)
    return {
        "name": name,
        "item": item,
        "content": content(item.record),
        "labels": [(v, answer_text(v.answer)) for v in item.labels],
        "proposal": [(q.name, answer_text(item.proposal.get(q.name))) for q in questions],
        "fields": fields(questions, item.record, values),
        "taxonomy": taxonomy_codes(questions),
        "error": "",
    }


@router.get("/annotate/{name}/review/{item_id}")
def review_page(
    request: Request, name: str, item_id: str, user: CurrentUser, db: DbDep, session: SessionDep
) -> Response:
    return render(request, "annotate_review.html", _item_context(db, name, item_id, user.name))


def _decide(db: Database, name: str, item_id: str, user: str, form: Any) -> dict[str, Any] | None:
    """Settle the item as the form says; None when done, else the page again with the error."""
    decision = str(form.get("decision") or "")
    with db.read() as s:
        answers = answers_of(form, campaign_questions(s, name))
    try:
        if decision not in DECISIONS:
            raise QianmoError(f"pick one of {', '.join(DECISIONS)}", field="decision")
        chosen: Any = decision  # one of DECISIONS, checked above
        settle(db, name, item_id, user, chosen, answers if decision == "correct" else None)
    except QianmoError as e:
        ctx = _item_context(db, name, item_id, user, given=answers)
        return {**ctx, "error": str(e)}
    return None


@router.post("/annotate/{name}/review/{item_id}")
async def review_post(
    request: Request, name: str, item_id: str, user: CurrentUser, db: DbDep
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    failed = await run_in_threadpool(_decide, db, name, item_id, user.name, form)
    if failed is not None:
        return render(request, "annotate_review.html", failed, status_code=400)
    return RedirectResponse(f"/annotate/{quote(name, safe='')}/review", status_code=303)
