"""Settling an item: agreement across its k labels, or a reviewer's decision, then write-back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qianmo.annotate._answers import agree
from qianmo.annotate._campaigns import Campaign, active_questions
from qianmo.annotate._questions import Question
from qianmo.annotate._tables import ITEMS, LABELS, RECORDS, USERS
from qianmo.standard import LineageStep, Record, Status, utcnow
from qianmo.store import (
    AnnotationItemRow,
    Entry,
    Prepared,
    arg,
    get_record,
    save_version,
    set_status,
    to_record,
)

_LABELS = (
    select(LABELS.c.question_id, USERS.c.name, LABELS.c.answer, LABELS.c.state)
    .select_from(LABELS.join(USERS, USERS.c.id == LABELS.c.annotator_id))
    .where(LABELS.c.item_id == arg("item"))
    .order_by(LABELS.c.created_at)
)
_LABELS_OF = Prepared(_LABELS)


def item_labels(session: Session, item_id: str) -> list[tuple[str, str, Any, str]]:
    """(question version id, annotator name, answer, state) of every label on an item."""
    rows = _LABELS_OF.run(session.connection(), {"item": item_id}).rows
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def annotators_of(session: Session, item_id: str) -> list[str]:
    return _names(item_labels(session, item_id))


def _names(labels: list[tuple[str, str, Any, str]]) -> list[str]:
    return sorted({name for _, name, _, _ in labels})


def proposals(session: Session, item: AnnotationItemRow, rule: str) -> tuple[bool, dict[str, Any]]:
    """Whether the counted labels agree on every question, and the value each would settle on."""
    questions = active_questions(session, item.campaign_id)
    return _agreement(questions, item_labels(session, item.id), rule)


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
    labels: list[tuple[str, str, Any, str]] | None = None,
    active: Sequence[tuple[str, Question]] | None = None,
    record_data: dict[str, Any] | None = None,
) -> None:
    """Settle the item and write the result to its record, with lineage naming the people.

    A caller that has just read the item's `labels`, the campaign's `active` questions or the
    record's stored document (`record_data`) in this transaction passes them, so they are not
    read again."""
    if labels is None:
        labels = item_labels(session, item.id)
    if active is None:
        active = active_questions(session, campaign.id)
    annotators = _names(labels)
    actor = reviewer or f"campaign:{campaign.name}"
    record = get_record(session, item.record_id) if record_data is None else to_record(record_data)
    questions = {q.name: q for _, q in active}
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


def _agreement(
    questions: Sequence[tuple[str, Question]], labels: list[tuple[str, str, Any, str]], rule: str
) -> tuple[bool, dict[str, Any]]:
    agreed, result = True, {}
    for qid, q in questions:
        answers = [a for lq, _, a, state in labels if lq == qid and state == "counted"]
        if not answers:
            continue
        ok, value = agree(q, answers, rule=rule)
        agreed = agreed and ok
        result[q.name] = value
    return agreed, result


# Question types whose settled answer edits the record (see `_apply`).
EDITING = frozenset({"rewrite", "taxonomy", "spans"})
# The item's labels (as `_LABELS_OF`), with its record's document on each row: settling needs
# both, and this is one round trip instead of two.
_LABELS_AND_RECORD = Prepared(
    _LABELS.add_columns(select(RECORDS.c.data).where(RECORDS.c.id == arg("id")).scalar_subquery())
)
_RECORD_STATUS = Prepared(
    update(RECORDS)
    .where(RECORDS.c.id == arg("id"))
    .values(data=arg("data"), status=arg("status"), updated_at=arg("at"))
)
_SETTLED = Prepared(
    update(ITEMS)
    .where(ITEMS.c.id == arg("item"))
    .values(state="settled", result=arg("result"), reviewer=None, settled_at=arg("at"))
)
_TO_REVIEW = Prepared(update(ITEMS).where(ITEMS.c.id == arg("item")).values(state="review"))


# What settling runs, with values of the right types for `warm_up` (besides `item`, `id`, `at`).
SETTLE_STATEMENTS: tuple[tuple[Prepared, dict[str, Any]], ...] = (
    (_LABELS_AND_RECORD, {}),
    (_RECORD_STATUS, {"data": {}, "status": "accepted"}),
    (_SETTLED, {"result": {}}),
    (_TO_REVIEW, {}),
)


def settle_if_complete(
    session: Session,
    campaign: Campaign,
    questions: Sequence[tuple[str, Question]],
    item_id: str,
    record_id: str,
    *,
    audit_later: list[Entry],
    write_later: list[tuple[Prepared, dict[str, Any]]],
) -> str:
    """After the submit that filled the last slot of an open item (`record_id` its record):
    settle it, or send it to review.

    Once per k submits, so it is kept to a few statements: the labels and the record are read
    here; the record's new status (as `set_status` does it) and the item's are writes that
    return nothing, added to `write_later`, and the status change's audit entry to
    `audit_later`, for the caller to run with the COMMIT (`audit_and_commit`: on PostgreSQL
    one round trip for all). A result that edits the record takes `write_back`.
    """
    conn = session.connection()
    rows = _LABELS_AND_RECORD.run(conn, {"item": item_id, "id": record_id}).rows
    labels = [(r[0], r[1], r[2], r[3]) for r in rows]
    agreed, result = _agreement(questions, labels, campaign.config.agreement)
    now = utcnow()
    if not agreed:
        write_later.append((_TO_REVIEW, {"item": item_id}))
        return "review"
    if any(q.type in EDITING for _, q in questions):
        item = session.get(AnnotationItemRow, item_id, populate_existing=True)
        assert item is not None
        write_back(
            session,
            campaign,
            item,
            result,
            reviewer=None,
            labels=labels,
            active=questions,
            record_data=rows[0][4],  # read with the labels
        )
        session.flush()
        return item.state
    annotators = _names(labels)
    status = Status.REJECTED if campaign.config.rejects(result) else Status.ACCEPTED
    data = dict(rows[0][4])  # the submit that called this stored a label: rows are not empty
    data["status"] = status.value
    data["status_reason"] = f"campaign {campaign.name}: agreed by " + ", ".join(annotators)
    write_later.append(
        (_RECORD_STATUS, {"id": record_id, "data": data, "status": status.value, "at": now})
    )
    audit_later.append(
        Entry(
            actor=f"campaign:{campaign.name}",
            action="annotate.writeback",
            object_type="record",
            object_ids=[record_id],
        )
    )
    write_later.append((_SETTLED, {"item": item_id, "result": result, "at": now}))
    return "settled"
