"""Submitting labels: counted labels fill their slots; gold labels score the annotator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qianmo.annotate._answers import check_answer, matches_gold
from qianmo.annotate._campaigns import Campaign, active_questions
from qianmo.annotate._claim import own_lease, release_slots, stat_row
from qianmo.annotate._questions import Question
from qianmo.annotate._settle import finish_if_complete
from qianmo.errors import QianmoError
from qianmo.standard import Record, new_id, utcnow
from qianmo.store import (
    AnnotationAssignmentRow,
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotationSlotRow,
    AnnotatorStatRow,
    CampaignRow,
    Database,
    audit,
    get_record,
)


@dataclass(frozen=True)
class Submitted:
    item_id: str
    labels: int
    item_state: str
    annotator_status: str


def _checked(
    questions: list[tuple[str, Question]], answers: dict[str, Any], record: Record
) -> dict[str, Any]:
    known = {q.name for _, q in questions}
    if unknown := sorted(set(answers) - known):
        raise QianmoError(f"no question {unknown[0]!r} on this item", field="answers")
    return {q.name: check_answer(q, answers.get(q.name), record) for _, q in questions}


def hold_pending(session: Session, campaign_id: str, user_id: str) -> int:
    """A paused annotator's labels on unsettled items stop counting and wait for review.

    Their slots are freed so other people complete the items; the labels stay, marked held.
    """
    rows = (
        session.execute(
            select(AnnotationLabelRow)
            .join(AnnotationItemRow, AnnotationItemRow.id == AnnotationLabelRow.item_id)
            .where(
                AnnotationLabelRow.campaign_id == campaign_id,
                AnnotationLabelRow.annotator_id == user_id,
                AnnotationLabelRow.state == "counted",
                AnnotationItemRow.state.in_(("open", "review")),
            )
        )
        .scalars()
        .all()
    )
    for label in rows:
        slot = label.slot
        label.state, label.slot = "held", None
        session.flush()
        session.execute(
            update(AnnotationSlotRow)
            .where(
                AnnotationSlotRow.item_id == label.item_id,
                AnnotationSlotRow.question_id == label.question_id,
                AnnotationSlotRow.slot == slot,
            )
            .values(state="free", annotator_id=None, assignment_id=None, lease_expires=None)
        )
        session.execute(
            update(AnnotationItemRow)
            .where(AnnotationItemRow.id == label.item_id)
            .values(state="open")
        )
    for a in session.execute(
        select(AnnotationAssignmentRow).where(
            AnnotationAssignmentRow.campaign_id == campaign_id,
            AnnotationAssignmentRow.annotator_id == user_id,
            AnnotationAssignmentRow.state == "leased",
        )
    ).scalars():
        a.state, a.finished_at = "expired", utcnow()
        release_slots(session, a.id)
    return len(rows)


def _score(session: Session, campaign: Campaign, stat: AnnotatorStatRow, correct: bool) -> None:
    stat.gold_seen += 1
    stat.gold_correct += int(correct)
    cfg = campaign.config
    accuracy = stat.gold_correct / stat.gold_seen
    if stat.status == "qualifying" and stat.gold_seen >= cfg.qualification:
        stat.status = "active" if accuracy >= cfg.gold_threshold else "failed"
    elif (
        stat.status == "active" and stat.gold_seen >= cfg.gold_min and accuracy < cfg.gold_threshold
    ):
        stat.status = "paused"
        hold_pending(session, campaign.id, stat.annotator_id)


def _gold_labels(
    session: Session,
    a: AnnotationAssignmentRow,
    item: AnnotationItemRow,
    questions: list[tuple[str, Question]],
    answers: dict[str, Any],
) -> bool:
    gold = item.gold or {}
    verdicts = []
    for qid, q in questions:
        verdict = matches_gold(q, answers[q.name], gold.get(q.name))
        if verdict is not None:
            verdicts.append(verdict)
        session.add(
            AnnotationLabelRow(
                id=new_id(),
                campaign_id=a.campaign_id,
                item_id=item.id,
                question_id=qid,
                slot=None,
                annotator_id=a.annotator_id,
                assignment_id=a.id,
                answer=answers[q.name],
                state="gold",
                correct=verdict,
            )
        )
    return all(verdicts)


def _counted_labels(
    session: Session,
    a: AnnotationAssignmentRow,
    questions: list[tuple[str, Question]],
    answers: dict[str, Any],
    duration_ms: int | None,
) -> int:
    slots = (
        session.execute(
            select(AnnotationSlotRow).where(
                AnnotationSlotRow.assignment_id == a.id, AnnotationSlotRow.state == "leased"
            )
        )
        .scalars()
        .all()
    )
    if not slots:
        raise QianmoError(
            "your lease expired and the item went to someone else; take the next one",
            object_id=a.id,
        )
    by_id = dict(questions)
    for slot in slots:
        q = by_id.get(slot.question_id)
        if q is None:
            continue  # the question was replaced by a new version meanwhile
        session.add(
            AnnotationLabelRow(
                id=new_id(),
                campaign_id=a.campaign_id,
                item_id=a.item_id,
                question_id=slot.question_id,
                slot=slot.slot,
                annotator_id=a.annotator_id,
                assignment_id=a.id,
                answer=answers[q.name],
                state="counted",
                duration_ms=duration_ms,
            )
        )
        slot.state, slot.lease_expires = "done", None
    session.flush()
    return len(slots)


def submit(
    db: Database,
    assignment_id: str,
    user: str,
    answers: dict[str, Any],
    *,
    duration_ms: int | None = None,
) -> Submitted:
    """Store the answers of a leased item; settle the item when its k labels are all in."""
    with db.write() as s:
        a = own_lease(s, assignment_id, user)
        # Lock the item so that of two people submitting its last slots, one sees the other's.
        # FOR NO KEY UPDATE: claims inserting a lease (a foreign key to the item) must not wait.
        item = s.get(AnnotationItemRow, a.item_id, with_for_update={"key_share": True})
        row = s.get(CampaignRow, a.campaign_id)
        assert item is not None and row is not None
        campaign = Campaign.of(row)
        questions = active_questions(s, campaign.id)
        record = get_record(s, item.record_id)
        checked = _checked(questions, answers, record)
        stat = stat_row(s, campaign, a.annotator_id)
        if a.gold:
            _score(s, campaign, stat, _gold_labels(s, a, item, questions, checked))
            count = len(questions)
        else:
            count = _counted_labels(s, a, questions, checked, duration_ms)
            stat.labelled += 1
        a.state, a.finished_at = "submitted", utcnow()
        state = item.state if a.gold else finish_if_complete(s, campaign, item)
        audit(
            s,
            actor=user,
            action="annotate.label",
            object_type="annotation_item",
            object_ids=[item.id],
        )
        return Submitted(item.id, count, state, stat.status)
