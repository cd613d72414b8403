"""Annotation: campaigns and their progress, claim → submit/skip/discard, the review queue.

Thin routes over `qianmo.annotate`: the services enforce overlap, blindness, who may label
and that a reviewer never settles an item they labelled.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

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
)
from qianmo.web._annotate_schemas import (
    AnswersCreate,
    CampaignPublic,
    ClaimPublic,
    LetGoPublic,
    ProgressPublic,
    ReviewDecision,
    ReviewItemPublic,
    SettledPublic,
    SubmittedPublic,
    TaskPublic,
)
from qianmo.web._deps import CurrentUser, DbDep, SessionDep
from qianmo.web._errors import ErrorPublic

ERRORS = {code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 422)}
router = APIRouter(prefix="/annotate", tags=["annotate"], responses=ERRORS)  # type: ignore[arg-type]


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


@router.post("/campaigns/{name}/claim", response_model=ClaimPublic)
def claim_next(name: str, user: CurrentUser, db: DbDep) -> ClaimPublic:
    """Your next item under a lease (your live lease again if you hold one); null when done."""
    task = claim(db, name, user.name)
    return ClaimPublic(task=TaskPublic.of(task) if task is not None else None)


@router.post("/assignments/{assignment_id}/submit", response_model=SubmittedPublic)
def submit_answers(
    assignment_id: str, body: AnswersCreate, user: CurrentUser, db: DbDep
) -> SubmittedPublic:
    """Answer every question of a leased item; the item settles when its k labels agree."""
    done = submit(db, assignment_id, user.name, body.answers, duration_ms=body.duration_ms)
    return SubmittedPublic(
        item_id=done.item_id,
        labels=done.labels,
        item_state=done.item_state,
        annotator_status=done.annotator_status,
    )


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
