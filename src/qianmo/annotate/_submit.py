"""Submitting labels: counted labels fill their slots; gold labels score the annotator.

A counted submit is a handful of Core statements: the lease with its campaign, end the lease,
mark its slots done (returning them), insert the labels, bump the annotator's count and
decrement the item's `remaining` (returning it) — one statement on PostgreSQL (`_counted`) —
and append the audit entry. Only the submit that brings an item to 0 reads its labels to
settle it. The answers are checked before any of that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from qianmo.annotate._answers import check_answer, matches_gold
from qianmo.annotate._cache import CampaignInfo, campaign_info
from qianmo.annotate._campaigns import Campaign
from qianmo.annotate._claim import (
    Lease,
    WhoRows,
    end_lease,
    item_record,
    own_lease,
    own_lease_and_who,
    who_after_count,
)
from qianmo.annotate._counted import JUST_ENDED, NEW_LABEL, counted_labels, label_row
from qianmo.annotate._counts import recount_remaining
from qianmo.annotate._settle import settle_if_complete
from qianmo.annotate._tables import ITEMS, SLOTS
from qianmo.errors import QianmoError
from qianmo.store import (
    AnnotationAssignmentRow,
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotatorStatRow,
    Database,
    Entry,
    Prepared,
    arg,
    audit_and_commit,
    before_begin,
)


@dataclass(frozen=True)
class Submitted:
    item_id: str
    labels: int
    item_state: str
    annotator_status: str


def _checked(
    conn: Connection, info: CampaignInfo, lease: Lease, answers: dict[str, Any]
) -> dict[str, Any]:
    known = {q.name for _, q in info.questions}
    if unknown := sorted(set(answers) - known):
        raise QianmoError(f"no question {unknown[0]!r} on this item", field="answers")
    record = item_record(conn, lease.item_id) if info.needs_record else None
    return {
        q.name: check_answer(q, answers.get(q.name), record)  # type: ignore[arg-type]
        for _, q in info.questions
    }


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
    conn = session.connection()
    for label in rows:
        slot = label.slot
        label.state, label.slot = "held", None
        session.flush()
        conn.execute(
            update(SLOTS)
            .where(
                SLOTS.c.item_id == label.item_id,
                SLOTS.c.question_id == label.question_id,
                SLOTS.c.slot == slot,
            )
            .values(state="free", annotator_id=None, assignment_id=None, lease_expires=None)
        )
        conn.execute(update(ITEMS).where(ITEMS.c.id == label.item_id).values(state="open"))
    recount_remaining(conn, item_ids=sorted({label.item_id for label in rows}))
    for (aid,) in session.execute(
        select(AnnotationAssignmentRow.id).where(
            AnnotationAssignmentRow.campaign_id == campaign_id,
            AnnotationAssignmentRow.annotator_id == user_id,
            AnnotationAssignmentRow.state == "leased",
        )
    ).all():
        end_lease(conn, aid, "expired")
    return len(rows)


def _score(session: Session, info: CampaignInfo, user_id: str, correct: bool) -> str:
    """Count a gold answer; pause (and hold the labels of) one who falls below the threshold."""
    stat = session.get(AnnotatorStatRow, (info.id, user_id), populate_existing=True)
    assert stat is not None  # made by the claim
    stat.gold_seen += 1
    stat.gold_correct += int(correct)
    cfg = info.config
    accuracy = stat.gold_correct / stat.gold_seen
    if stat.status == "qualifying" and stat.gold_seen >= cfg.qualification:
        stat.status = "active" if accuracy >= cfg.gold_threshold else "failed"
    elif (
        stat.status == "active" and stat.gold_seen >= cfg.gold_min and accuracy < cfg.gold_threshold
    ):
        stat.status = "paused"
        hold_pending(session, info.id, user_id)
    session.flush()
    return stat.status


_GOLD_OF = Prepared(select(ITEMS.c.gold).where(ITEMS.c.id == arg("item")))


def _gold_labels(
    conn: Connection, info: CampaignInfo, lease: Lease, answers: dict[str, Any]
) -> bool:
    gold = _GOLD_OF.run(conn, {"item": lease.item_id}).one()[0] or {}
    verdicts, rows = [], []
    for qid, q in info.questions:
        verdict = matches_gold(q, answers[q.name], gold.get(q.name))
        if verdict is not None:
            verdicts.append(verdict)
        rows.append(label_row(lease, qid, None, answers[q.name], "gold", None, correct=verdict))
    NEW_LABEL.run_many(conn, rows)
    return all(verdicts)


# SQLite only (there one writer at a time orders the submits of an item): on PostgreSQL the
# count is taken by the submit's own statement (`_counted`), whose row lock on the item orders
# them: of two people filling its last slots, the second sees the first's count and settles it.
_DECREMENT = Prepared(
    update(ITEMS)
    .where(ITEMS.c.id == arg("item"))
    .values(remaining=ITEMS.c.remaining - arg("n"))
    .returning(ITEMS.c.remaining, ITEMS.c.state, ITEMS.c.record_id)
)


@dataclass(frozen=True)
class Stored:
    """A submit's labels, stored; for counted ones the item's count is still to be taken
    (`count_and_commit`)."""

    info: CampaignInfo
    lease: Lease
    labels: int
    annotator_status: str
    # Who submitted, as WHO would read them now (`store_labels(with_who=True)`), for the claim
    # of their next item in the same transaction; None: not read (or a gold answer changed it).
    who_rows: WhoRows | None = None
    # The item's (remaining, state, record id) when the count was taken with the labels
    item_count: tuple[int, str, str] | None = None


def store_labels(
    db: Database,
    s: Session,
    assignment_id: str,
    user: str,
    answers: dict[str, Any],
    duration_ms: int | None,
    *,
    with_who: bool = False,
) -> Stored:
    """The first part of a submit, inside an open write transaction: check the answers, end
    the lease, store the labels and count them for the annotator (a gold answer is scored).
    `with_who`: the lease's query also reads who is asking, for a claim that follows."""
    conn = s.connection()
    rows: WhoRows | None = None
    # A lease that is not theirs or has ended, or answers that do not fit: refused before the
    # transaction begins, so no ROLLBACK drops the connection's prepared statements. Its
    # first write (ending the lease only if still leased) decides; nothing here locks.
    with before_begin(conn):
        if with_who:
            lease, campaign_row, rows = own_lease_and_who(conn, assignment_id, user)
        else:
            lease, campaign_row = own_lease(conn, assignment_id, user)
        if campaign_row[0] is None:  # not an annotation campaign's lease (cannot be made so)
            raise QianmoError("no such assignment of yours", object_id=assignment_id)
        info = campaign_info(db, conn, campaign_row)
        checked = _checked(conn, info, lease, answers)
    if lease.gold:
        if not end_lease(conn, lease.id, "submitted", release=False):
            raise QianmoError(JUST_ENDED, object_id=lease.id)
        status = _score(s, info, lease.annotator_id, _gold_labels(conn, info, lease, checked))
        return Stored(info, lease, len(info.questions), status)
    counted = counted_labels(conn, info, lease, checked, duration_ms)
    status = counted.annotator_status
    who_rows = who_after_count(rows, status)
    return Stored(info, lease, counted.labels, status, who_rows, counted.item)


def count_and_commit(s: Session, stored: Stored, user: str) -> Submitted:
    """The submit's last part: take the labels off the item's open slots (settling the item
    when its k labels are all in), then append the audit entries and COMMIT. Counting locks
    the item's row until commit (the submits of one item queue there), so a caller with more
    to do in the transaction does that first (on PostgreSQL the count was taken with the
    labels, a round trip fewer: `Stored.item_count`). Appending locks the audit chain's head
    until commit (every writer queues there), so it goes last, and on PostgreSQL with the
    COMMIT in one round trip (`audit_and_commit`). The caller's `db.write()` block does
    nothing after."""
    info, lease = stored.info, stored.lease
    entries: list[Entry] = []
    writes: list[tuple[Prepared, dict[str, Any]]] = []
    state = "gold"
    if not lease.gold:
        conn = s.connection()
        remaining, state, record_id = (
            stored.item_count
            or _DECREMENT.run(conn, {"item": lease.item_id, "n": stored.labels}).one()
        )
        if remaining <= 0 and state == "open":
            campaign = Campaign(info.id, info.name, info.status, info.config)
            state = settle_if_complete(
                s,
                campaign,
                info.questions,
                lease.item_id,
                record_id,
                audit_later=entries,
                write_later=writes,
            )
    entries.append(Entry(user, "annotate.label", "annotation_item", [lease.item_id]))
    audit_and_commit(s, entries, before=writes)
    return Submitted(lease.item_id, stored.labels, state, stored.annotator_status)


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
        stored = store_labels(db, s, assignment_id, user, answers, duration_ms)
        return count_and_commit(s, stored, user)
