"""Annotation: campaigns and their progress, claim → submit/skip/discard, the review queue.

Thin routes over `qianmo.annotate`: the services enforce overlap, blindness, who may label
and that a reviewer never settles an item they labelled.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from qianmo.annotate import (
    campaign_questions,
    claim,
    get_campaign,
    let_go,
    list_campaigns,
    progress,
    review_item,
    review_queue,
    settle,
    submit,
    submit_next,
)
from qianmo.store import Database
from qianmo.web._annotate_schemas import (
    AnswersCreate,
    CampaignPublic,
    ClaimPublic,
    LetGoPublic,
    ProgressPublic,
    ReviewDecision,
    ReviewItemPublic,
    SettledPublic,
    SubmittedNextPublic,
    SubmittedPublic,
    TaskPublic,
)
from qianmo.web._deps import Asking, AskingDep, CurrentUser, DbDep, SessionDep
from qianmo.web._errors import ErrorPublic

ERRORS = {code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 422)}
router = APIRouter(prefix="/annotate", tags=["annotate"], responses=ERRORS)  # type: ignore[arg-type]
# FastAPI tries routes in order, and matching a request against every route before its own
# (the app's, then each router's, twice: once to pick the router, once to pick the route) was
# a quarter of a label's event-loop CPU (cProfile under bench/web_cpu.py). The label routes
# are every annotator's every request: this router comes first among the API's (`_routers`),
# and they first in it. No route of another router can match an /annotate path.
ROUTE_FIRST = True


# The two routes of every label are `async def` doing their work in ONE worker thread: a plain
# `def` route runs in the thread pool and then FastAPI validates its return value against the
# response model in a second hop; these build the JSON in the same thread and return it as is
# (`response_model` still documents it). Who is asking is looked up in that thread too on
# PostgreSQL (`Asking`): a lookup in its own thread was a second hop per request.
def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def _claimed(db: Database, name: str, asker: Asking) -> Response:
    task = claim(db, name, asker.principal().name)
    return _json(ClaimPublic(task=TaskPublic.of(task) if task is not None else None))


@router.post("/campaigns/{name}/claim", response_model=ClaimPublic)
async def claim_next(name: str, asker: AskingDep) -> Response:
    """Your next item under a lease (your live lease again if you hold one); null when done."""
    return await asker.in_thread(_claimed, asker.db, name, asker)


def _submitted(
    db: Database, assignment_id: str, asker: Asking, body: AnswersCreate, then_claim: bool
) -> Response:
    user = asker.principal().name
    if not then_claim:
        done = submit(db, assignment_id, user, body.answers, duration_ms=body.duration_ms)
        return _json(SubmittedPublic(**asdict(done)))
    both = submit_next(db, assignment_id, user, body.answers, duration_ms=body.duration_ms)
    return _json(
        SubmittedNextPublic(
            **asdict(both.submitted),
            next=TaskPublic.of(both.task) if both.task is not None else None,
            next_refused=both.refused or None,
        )
    )


NextQuery = Annotated[
    bool,
    Query(
        alias="next",
        description="also claim your next item in the same transaction and return it as "
        "`next` (one request per label instead of claim + submit)",
    ),
]


@router.post(
    "/assignments/{assignment_id}/submit", response_model=SubmittedPublic | SubmittedNextPublic
)
async def submit_answers(
    assignment_id: str,
    body: AnswersCreate,
    asker: AskingDep,
    then_claim: NextQuery = False,
) -> Response:
    """Answer every question of a leased item; the item settles when its k labels agree."""
    return await asker.in_thread(_submitted, asker.db, assignment_id, asker, body, then_claim)


@router.get("/campaigns", response_model=list[CampaignPublic])
def campaigns(user: CurrentUser, session: SessionDep) -> list[CampaignPublic]:
    """Every annotation campaign with its questions."""
    return [
        CampaignPublic.of(c, campaign_questions(session, c.name)) for c in list_campaigns(session)
    ]


@router.get("/campaigns/{name}", response_model=CampaignPublic)
def campaign(name: str, user: CurrentUser, session: SessionDep) -> CampaignPublic:
    return CampaignPublic.of(get_campaign(session, name), campaign_questions(session, name))


@router.get("/campaigns/{name}/status", response_model=ProgressPublic)
def status(name: str, user: CurrentUser, db: DbDep) -> ProgressPublic:
    """Progress per question and per annotator (as `qianmo annotate status NAME`)."""
    return ProgressPublic.of(progress(db, name))


@router.post("/assignments/{assignment_id}/skip", response_model=LetGoPublic)
def skip(assignment_id: str, user: CurrentUser, db: DbDep) -> LetGoPublic:
    """End the lease; the item comes back to you after the others."""
    let_go(db, assignment_id, user.name, discard=False)
    return LetGoPublic(assignment_id=assignment_id, state="skipped")


@router.post("/assignments/{assignment_id}/discard", response_model=LetGoPublic)
def discard(assignment_id: str, user: CurrentUser, db: DbDep) -> LetGoPublic:
    """End the lease; the item leaves your queue for good and does not count towards k."""
    let_go(db, assignment_id, user.name, discard=True)
    return LetGoPublic(assignment_id=assignment_id, state="discarded")


@router.get("/campaigns/{name}/review", response_model=list[ReviewItemPublic])
def queue(
    name: str, user: CurrentUser, db: DbDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ReviewItemPublic]:
    """Items whose labels disagree, that you may settle (never ones you labelled)."""
    return [ReviewItemPublic.of(r) for r in review_queue(db, name, user.name, limit=limit)]


@router.get("/campaigns/{name}/review/{item_id}", response_model=ReviewItemPublic)
def review_one(name: str, item_id: str, user: CurrentUser, db: DbDep) -> ReviewItemPublic:
    return ReviewItemPublic.of(review_item(db, name, item_id, user.name))


@router.post("/campaigns/{name}/review/{item_id}", response_model=SettledPublic)
def decide(
    name: str, item_id: str, body: ReviewDecision, user: CurrentUser, db: DbDep
) -> SettledPublic:
    """Accept the majority result, correct it (`answers`), or reject the item; written back."""
    result = settle(db, name, item_id, user.name, body.decision, body.answers)
    return SettledPublic(item_id=item_id, decision=body.decision, result=result)
