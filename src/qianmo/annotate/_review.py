"""The review queue: items whose labels disagree, settled by someone who did not label them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.annotate._answers import check_answer
from qianmo.annotate._campaigns import Campaign, active_questions, campaign_row, participant
from qianmo.annotate._config import MANAGE_ROLES, REVIEW_ROLES
from qianmo.annotate._settle import annotators_of, item_labels, proposals, write_back
from qianmo.errors import NotFound, PolicyRefused, QianmoError
from qianmo.standard import Record, new_id, utcnow
from qianmo.store import (
    AnnotationAssignmentRow,
    AnnotationItemRow,
    Database,
    UserRow,
    Viewer,
    audit,
    can_see,
    get_record,
)

Decision = Literal["accept", "correct", "reject"]


@dataclass(frozen=True)
class LabelView:
    question: str
    annotator: str
    answer: Any
    state: str


@dataclass(frozen=True)
class ReviewItem:
    item_id: str
    record: Record
    labels: list[LabelView]
    proposal: dict[str, Any]


def _views(session: Session, item: AnnotationItemRow) -> list[LabelView]:
    names = {qid: q.name for qid, q in active_questions(session, item.campaign_id)}
    return [
        LabelView(names.get(qid, "(earlier version)"), who, answer, state)
        for qid, who, answer, state in item_labels(session, item.id)
    ]


def review_queue(db: Database, name: str, reviewer: str, *, limit: int = 50) -> list[ReviewItem]:
    """Items in review that this reviewer may settle (never ones they labelled)."""
    with db.read() as s:
        campaign = Campaign.of(campaign_row(s, name))
        _, viewer = participant(s, campaign, reviewer, REVIEW_ROLES)
        rows = s.execute(
            select(AnnotationItemRow)
            .where(
                AnnotationItemRow.campaign_id == campaign.id, AnnotationItemRow.state == "review"
            )
            .order_by(AnnotationItemRow.position)
        ).scalars()
        out = []
        for item in rows:
            if reviewer in annotators_of(s, item.id):
                continue
            record = get_record(s, item.record_id)
            if not can_see(viewer, record):
                continue  # a reviewer only settles records the access rule lets them see
            _, proposal = proposals(s, item, "majority")
            out.append(ReviewItem(item.id, record, _views(s, item), proposal))
            if len(out) >= limit:
                break
        return out


def _corrected(
    session: Session, item: AnnotationItemRow, proposal: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any]:
    record = get_record(session, item.record_id)
    questions = {q.name: q for _, q in active_questions(session, item.campaign_id)}
    result = dict(proposal)
    for qname, value in answers.items():
        if qname not in questions:
            raise QianmoError(f"no question {qname!r}", field="answers")
        result[qname] = check_answer(questions[qname], value, record)
    return result


def settle(
    db: Database,
    name: str,
    item_id: str,
    reviewer: str,
    decision: Decision,
    answers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Accept the majority result, correct it, or reject the item; then write it back."""
    with db.write() as s:
        campaign = Campaign.of(campaign_row(s, name))
        reviewer_id, viewer = participant(s, campaign, reviewer, REVIEW_ROLES)
        item = s.get(AnnotationItemRow, item_id, with_for_update={"key_share": True})
        if item is None or item.campaign_id != campaign.id:
            raise NotFound(f"no item {item_id} in {name}", object_id=item_id)
        _visible(s, item, viewer)
        if reviewer in annotators_of(s, item.id):
            raise PolicyRefused(
                f"{reviewer} labelled this item and may not review it", object_id=item_id
            )
        if item.state != "review":
            raise QianmoError(f"this item is {item.state}, not in review", object_id=item_id)
        _, proposal = proposals(s, item, "majority")
        if decision == "correct":
            result = _corrected(s, item, proposal, answers or {})
        elif decision in ("accept", "reject"):
            result = proposal
        else:
            raise QianmoError(f"unknown decision {decision!r}", field="decision")
        write_back(s, campaign, item, result, reviewer=reviewer, reject=decision == "reject")
        _bar_from_labelling(s, item, reviewer_id)
        audit(
            s,
            actor=reviewer,
            action=f"annotate.review.{decision}",
            object_type="annotation_item",
            object_ids=[item.id],
        )
        return result


def visible_labels(db: Database, name: str, item_id: str, user: str) -> list[LabelView]:
    """Labels on an item, shown only to who may see them: blind labelling.

    An annotator sees others' labels only after submitting their own; a reviewer or maintainer
    who has not labelled the item sees them; nobody else does.
    """
    with db.read() as s:
        campaign = Campaign.of(campaign_row(s, name))
        item = s.get(AnnotationItemRow, item_id)
        if item is None or item.campaign_id != campaign.id:
            raise NotFound(f"no item {item_id} in {name}", object_id=item_id)
        views = _views(s, item)
        if any(v.annotator == user and v.state != "gold" for v in views):
            return views
        try:
            participant(s, campaign, user, REVIEW_ROLES | MANAGE_ROLES)
        except PolicyRefused as e:
            raise PolicyRefused(
                "labels stay hidden until you submit your own", object_id=item_id
            ) from e
        if _holds_lease(s, item_id, user):
            raise PolicyRefused("labels stay hidden until you submit your own", object_id=item_id)
        return views


def _holds_lease(session: Session, item_id: str, user: str) -> bool:
    return (
        session.execute(
            select(AnnotationAssignmentRow.id)
            .join(UserRow, UserRow.id == AnnotationAssignmentRow.annotator_id)
            .where(
                AnnotationAssignmentRow.item_id == item_id,
                UserRow.name == user,
                AnnotationAssignmentRow.state == "leased",
            )
        ).first()
        is not None
    )


def _bar_from_labelling(session: Session, item: AnnotationItemRow, reviewer_id: str) -> None:
    """A reviewer never labels the item they settled, even when a new question reopens it.

    The claim query already leaves out items a person discarded, so the review is recorded
    as a finished discard of the item by the reviewer: it never enters their queue again.
    """
    now = utcnow()
    session.add(
        AnnotationAssignmentRow(
            id=new_id(),
            campaign_id=item.campaign_id,
            item_id=item.id,
            annotator_id=reviewer_id,
            state="discarded",
            gold=False,
            expires_at=now,
            finished_at=now,
        )
    )


def review_item(db: Database, name: str, item_id: str, reviewer: str) -> ReviewItem:
    """One item of the review queue, for a reviewer who may settle it (see `settle`)."""
    with db.read() as s:
        campaign = Campaign.of(campaign_row(s, name))
        _, viewer = participant(s, campaign, reviewer, REVIEW_ROLES)
        item = s.get(AnnotationItemRow, item_id)
        if item is None or item.campaign_id != campaign.id:
            raise NotFound(f"no item {item_id} in {name}", object_id=item_id)
        record = _visible(s, item, viewer)
        if reviewer in annotators_of(s, item.id):
            raise PolicyRefused(
                f"{reviewer} labelled this item and may not review it", object_id=item_id
            )
        if item.state != "review":
            raise QianmoError(f"this item is {item.state}, not in review", object_id=item_id)
        _, proposal = proposals(s, item, "majority")
        return ReviewItem(item.id, record, _views(s, item), proposal)


def _visible(session: Session, item: AnnotationItemRow, viewer: Viewer) -> Record:
    record = get_record(session, item.record_id)
    if not can_see(viewer, record):
        raise NotFound(f"no item {item.id}", object_id=item.id)
    return record
