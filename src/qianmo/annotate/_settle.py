"""Settling an item: agreement across its k labels, or a reviewer's decision, then write-back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qianmo.annotate._answers import agree
from qianmo.annotate._campaigns import Campaign, active_questions
from qianmo.annotate._questions import Question
from qianmo.standard import LineageStep, Record, Status, utcnow
from qianmo.store import (
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotationSlotRow,
    UserRow,
    get_record,
    save_version,
    set_status,
)


def item_labels(session: Session, item_id: str) -> list[tuple[str, str, Any, str]]:
    """(question version id, annotator name, answer, state) of every label on an item."""
    rows = session.execute(
        select(
            AnnotationLabelRow.question_id,
            UserRow.name,
            AnnotationLabelRow.answer,
            AnnotationLabelRow.state,
        )
        .join(UserRow, UserRow.id == AnnotationLabelRow.annotator_id)
        .where(AnnotationLabelRow.item_id == item_id)
        .order_by(AnnotationLabelRow.created_at)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def annotators_of(session: Session, item_id: str) -> list[str]:
    return sorted({name for _, name, _, _ in item_labels(session, item_id)})


def outstanding_slots(session: Session, item_id: str) -> int:
    active = [qid for qid, _ in active_questions_for_item(session, item_id)]
    return int(
        session.execute(
            select(func.count())
            .select_from(AnnotationSlotRow)
            .where(
                AnnotationSlotRow.item_id == item_id,
                AnnotationSlotRow.question_id.in_(active),
                AnnotationSlotRow.state != "done",
            )
        ).scalar_one()
    )


def active_questions_for_item(session: Session, item_id: str) -> list[tuple[str, Question]]:
    item = session.get(AnnotationItemRow, item_id)
    assert item is not None
    return active_questions(session, item.campaign_id)


def proposals(session: Session, item: AnnotationItemRow, rule: str) -> tuple[bool, dict[str, Any]]:
    """Whether the counted labels agree on every question, and the value each would settle on."""
    labels = item_labels(session, item.id)
    agreed, result = True, {}
    for qid, q in active_questions(session, item.campaign_id):
        answers = [a for lq, _, a, state in labels if lq == qid and state == "counted"]
        if not answers:
            continue
        ok, value = agree(q, answers, rule=rule)
        agreed = agreed and ok
        result[q.name] = value
    return agreed, result


def _apply(record: Record, questions: dict[str, Question], result: dict[str, Any]) -> Record | None:
    """The record with the result's edits (rewrites, domain, span flags); None if unchanged."""
    data = record.model_dump()
    for name, value in result.items():
        q = questions.get(name)
        if q is None or value is None:
            continue
        if q.type == "rewrite" and isinstance(value, dict) and value.get("text"):
            data["content"][q.field] = value["text"]
        elif q.type == "taxonomy" and value != data.get("domain"):
            data["domain"] = value
        elif q.type == "spans" and value:
            for label in sorted({s["label"] for s in value}):
                spans = [s for s in value if s["label"] == label]
                data["quality"]["flags"][label] = {"by": "annotation", "spans": spans}
    changed = Record.model_validate(data)
    if changed.model_dump(exclude={"content_hash"}) == record.model_dump(exclude={"content_hash"}):
        return None
    return changed


def write_back(
    session: Session,
    campaign: Campaign,
    item: AnnotationItemRow,
    result: dict[str, Any],
    *,
    reviewer: str | None,
    reject: bool = False,
) -> None:
    """Settle the item and write the result to its record, with lineage naming the people."""
    annotators = annotators_of(session, item.id)
    actor = reviewer or f"campaign:{campaign.name}"
    record = get_record(session, item.record_id)
    questions = {q.name: q for _, q in active_questions(session, campaign.id)}
    edited = None if reject else _apply(record, questions, result)
    if edited is not None:
        step = LineageStep(
            type="campaign",
            name=campaign.name,
            detail={"annotators": annotators, "reviewer": reviewer, "item": item.id},
        )
        save_version(session, edited, actor=actor, change="annotate.writeback", step=step)
    status = Status.REJECTED if reject or campaign.config.rejects(result) else Status.ACCEPTED
    how = f"reviewed by {reviewer}" if reviewer else "agreed by " + ", ".join(annotators)
    set_status(
        session,
        [item.record_id],
        status,
        reason=f"campaign {campaign.name}: {how}",
        actor=actor,
        action="annotate.writeback",
    )
    item.state, item.result, item.reviewer = "settled", result, reviewer
    item.settled_at = utcnow()
    if reject:
        item.result = {**result, "_rejected": True}


def finish_if_complete(session: Session, campaign: Campaign, item: AnnotationItemRow) -> str:
    """After a submit: settle an item whose slots are all done, or send it to review."""
    if item.state != "open" or outstanding_slots(session, item.id):
        return item.state
    agreed, result = proposals(session, item, campaign.config.agreement)
    if agreed:
        write_back(session, campaign, item, result, reviewer=None)
    else:
        item.state = "review"
    return item.state
