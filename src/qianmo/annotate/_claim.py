"""Claiming an item under a lease: exactly k per (item, question version), nobody twice.

On PostgreSQL the free slot is taken with `FOR UPDATE SKIP LOCKED`, so concurrent claims take
different slots without waiting; on SQLite `Database.write()` begins IMMEDIATE, so claims run one
at a time (SQLAlchemy leaves FOR UPDATE out there). Either way the unique constraints on slots and
labels refuse a second slot or label for the same person, and a claim that loses such a race is
retried in a fresh transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from qianmo.annotate._campaigns import Campaign, active_questions, campaign_row, participant
from qianmo.annotate._config import LABEL_ROLES
from qianmo.annotate._questions import Question
from qianmo.errors import PolicyRefused, QianmoError
from qianmo.standard import Record, new_id, utcnow
from qianmo.store import (
    AnnotationAssignmentRow,
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotationSlotRow,
    AnnotatorStatRow,
    Database,
    RecordRow,
    UserRow,
    Viewer,
    get_record,
    visible_condition,
)

CLAIM_ATTEMPTS = 8


@dataclass(frozen=True)
class Task:
    """What an annotator is shown: the record and the questions — never anyone's labels."""

    assignment_id: str
    campaign: str
    item_id: str
    record: Record
    questions: list[Question]
    expires_at: datetime


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


def stat_row(session: Session, campaign: Campaign, user_id: str) -> AnnotatorStatRow:
    row = session.get(AnnotatorStatRow, (campaign.id, user_id))
    if row is None:
        status = "qualifying" if campaign.config.qualification else "active"
        row = AnnotatorStatRow(
            campaign_id=campaign.id,
            annotator_id=user_id,
            status=status,
            labelled=0,
            gold_seen=0,
            gold_correct=0,
        )
        session.add(row)
        session.flush()
    return row


def release_slots(session: Session, assignment_id: str) -> None:
    session.execute(
        update(AnnotationSlotRow)
        .where(
            AnnotationSlotRow.assignment_id == assignment_id, AnnotationSlotRow.state == "leased"
        )
        .values(state="free", annotator_id=None, assignment_id=None, lease_expires=None)
    )


def _current_lease(
    session: Session, campaign: Campaign, user_id: str, now: datetime
) -> AnnotationAssignmentRow | None:
    """The annotator's live lease (a reload shows the same item); expired ones are let go."""
    leases = session.execute(
        select(AnnotationAssignmentRow).where(
            AnnotationAssignmentRow.campaign_id == campaign.id,
            AnnotationAssignmentRow.annotator_id == user_id,
            AnnotationAssignmentRow.state == "leased",
        )
    ).scalars()
    live = None
    for a in leases:
        if _aware(a.expires_at) > now and live is None:
            live = a
        else:
            a.state, a.finished_at = "expired", now
            release_slots(session, a.id)
    return live


def _slot_query(
    campaign: Campaign, user_id: str, viewer: Viewer, now: datetime, *, with_skipped: bool
) -> Select[Any]:
    slot, item = AnnotationSlotRow, AnnotationItemRow
    mine = aliased(AnnotationSlotRow)
    passed = ("discarded",) if with_skipped else ("discarded", "skipped")
    query: Select[Any] = cast(Any, select(slot.item_id, slot.question_id, slot.slot))
    return (
        query.join(item, item.id == slot.item_id)
        .join(RecordRow, RecordRow.id == item.record_id)
        .where(
            slot.campaign_id == campaign.id,
            (slot.state == "free") | ((slot.state == "leased") & (slot.lease_expires < now)),
            item.state == "open",
            visible_condition(viewer),
            ~exists().where(
                mine.item_id == slot.item_id,
                mine.question_id == slot.question_id,
                mine.annotator_id == user_id,
            ),
            ~exists().where(
                AnnotationLabelRow.item_id == slot.item_id,
                AnnotationLabelRow.question_id == slot.question_id,
                AnnotationLabelRow.annotator_id == user_id,
            ),
            ~exists().where(
                AnnotationAssignmentRow.item_id == slot.item_id,
                AnnotationAssignmentRow.annotator_id == user_id,
                AnnotationAssignmentRow.state.in_(passed),
            ),
        )
        .order_by(item.position, slot.slot)
        .limit(1)
        .with_for_update(skip_locked=True, of=slot)
    )


def _lease_item_slots(
    session: Session, campaign: Campaign, user_id: str, viewer: Viewer, now: datetime
) -> tuple[str, list[tuple[str, int]]] | None:
    """Pick the first item with a slot for this annotator; lock one slot per open question."""
    first = None
    for with_skipped in (False, True):
        first = session.execute(
            _slot_query(campaign, user_id, viewer, now, with_skipped=with_skipped)
        ).first()
        if first is not None:
            break
    if first is None:
        return None
    item_id = first.item_id
    taken = [(first.question_id, first.slot)]
    for qid, _ in active_questions(session, campaign.id):
        if qid == first.question_id:
            continue
        more = session.execute(
            _slot_query(campaign, user_id, viewer, now, with_skipped=True).where(
                AnnotationSlotRow.item_id == item_id, AnnotationSlotRow.question_id == qid
            )
        ).first()
        if more is not None:
            taken.append((qid, more.slot))
    return item_id, taken


def _gold_item(
    session: Session, campaign: Campaign, user_id: str, viewer: Viewer, *, qualification: bool
) -> str | None:
    """A gold item this annotator has not been given before (qualification items first)."""
    item = AnnotationItemRow
    query = (
        select(item.id)
        .join(RecordRow, RecordRow.id == item.record_id)
        .where(
            item.campaign_id == campaign.id,
            item.gold.is_not(None),
            visible_condition(viewer),
            ~exists().where(
                and_(
                    AnnotationAssignmentRow.item_id == item.id,
                    AnnotationAssignmentRow.annotator_id == user_id,
                    AnnotationAssignmentRow.state != "expired",
                )
            ),
        )
        .order_by(item.qualification.desc(), item.position)
        .limit(1)
    )
    if qualification:
        query = query.where(item.qualification.is_(True))
    return session.execute(query).scalar_one_or_none()


def _gold_due(stat: AnnotatorStatRow, rate: float) -> bool:
    # Deterministic mixing: the share of gold among what this person was given stays at `rate`.
    return rate > 0 and stat.gold_seen < rate * (stat.labelled + stat.gold_seen + 1)


def _task(session: Session, campaign: Campaign, a: AnnotationAssignmentRow) -> Task:
    item = session.get(AnnotationItemRow, a.item_id)
    assert item is not None
    if a.gold:
        questions = [q for _, q in active_questions(session, campaign.id)]
    else:
        held = set(
            session.execute(
                select(AnnotationSlotRow.question_id).where(AnnotationSlotRow.assignment_id == a.id)
            ).scalars()
        )
        questions = [q for qid, q in active_questions(session, campaign.id) if qid in held]
    return Task(
        a.id,
        campaign.name,
        item.id,
        get_record(session, item.record_id),
        questions,
        _aware(a.expires_at),
    )


def _claim_once(db: Database, name: str, user: str, now: datetime) -> Task | None:
    with db.write() as s:
        campaign = Campaign.of(campaign_row(s, name))
        if campaign.status != "open":
            raise PolicyRefused(f"campaign {name} is {campaign.status}", object_id=name)
        deadline = campaign.config.deadline
        if deadline is not None and _aware(deadline) < now:
            raise PolicyRefused(
                f"campaign {name} closed at its deadline {deadline:%Y-%m-%d %H:%M}", object_id=name
            )
        user_id, viewer = participant(s, campaign, user, LABEL_ROLES)
        stat = stat_row(s, campaign, user_id)
        if stat.status in ("paused", "failed"):
            why = (
                "gold accuracy below the threshold"
                if stat.status == "paused"
                else "did not pass the qualification set"
            )
            raise PolicyRefused(f"{user} is paused in {name}: {why}", object_id=name)
        live = _current_lease(s, campaign, user_id, now)
        if live is not None:
            return _task(s, campaign, live)
        expires = now + timedelta(seconds=campaign.config.lease_seconds)
        gold_id = None
        if stat.status == "qualifying":
            gold_id = _gold_item(s, campaign, user_id, viewer, qualification=True)
            if gold_id is None:
                return None
        elif _gold_due(stat, campaign.config.gold_rate):
            gold_id = _gold_item(s, campaign, user_id, viewer, qualification=False)
        aid = new_id()
        if gold_id is not None:
            a = AnnotationAssignmentRow(
                id=aid,
                campaign_id=campaign.id,
                item_id=gold_id,
                annotator_id=user_id,
                state="leased",
                gold=True,
                expires_at=expires,
            )
            s.add(a)
            s.flush()
            return _task(s, campaign, a)
        picked = _lease_item_slots(s, campaign, user_id, viewer, now)
        if picked is None:
            return None
        item_id, slots = picked
        a = AnnotationAssignmentRow(
            id=aid,
            campaign_id=campaign.id,
            item_id=item_id,
            annotator_id=user_id,
            state="leased",
            gold=False,
            expires_at=expires,
        )
        s.add(a)
        for qid, n in slots:
            s.execute(
                update(AnnotationSlotRow)
                .where(
                    AnnotationSlotRow.item_id == item_id,
                    AnnotationSlotRow.question_id == qid,
                    AnnotationSlotRow.slot == n,
                )
                .values(
                    state="leased", annotator_id=user_id, assignment_id=aid, lease_expires=expires
                )
            )
        s.flush()
        return _task(s, campaign, a)


def claim(db: Database, campaign: str, user: str, *, now: datetime | None = None) -> Task | None:
    """The annotator's next item under a lease, or None when nothing is left for them."""
    for _ in range(CLAIM_ATTEMPTS):
        try:
            return _claim_once(db, campaign, user, now or utcnow())
        except IntegrityError:
            continue  # lost a race the constraints caught; take another slot
    raise QianmoError(
        "could not claim an item (too much contention); try again", object_id=campaign
    )


def own_lease(session: Session, assignment_id: str, user: str) -> AnnotationAssignmentRow:
    a = session.get(AnnotationAssignmentRow, assignment_id, with_for_update={"key_share": True})

    uid = session.execute(select(UserRow.id).where(UserRow.name == user)).scalar_one_or_none()
    if a is None or a.annotator_id != uid:
        raise QianmoError("no such assignment of yours", object_id=assignment_id)
    if a.state != "leased":
        raise QianmoError(f"this assignment is already {a.state}", object_id=assignment_id)
    return a


def let_go(db: Database, assignment_id: str, user: str, *, discard: bool) -> None:
    """Skip (the item may come back to you after the others) or discard (never again for you).

    Either way the lease ends, its slots are free for others, and nothing counts towards k.
    """
    with db.write() as s:
        a = own_lease(s, assignment_id, user)
        a.state, a.finished_at = ("discarded" if discard else "skipped"), utcnow()
        release_slots(s, a.id)
