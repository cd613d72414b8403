"""A counted submit's writes: end the lease, fill its slots, insert a label per filled slot and
count them for the annotator.

On PostgreSQL that is one statement of data-modifying CTEs (one round trip instead of four:
each was ~0.3-0.4 ms of a label's wall time and its share of both processes' CPU); on SQLite,
which has no data-modifying CTEs, four statements. Either way a lease that has just ended, or
whose slots went to someone else, raises, and the caller's transaction rolls back as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    Connection,
    DateTime,
    Integer,
    String,
    Text,
    any_,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)

from qianmo.annotate._cache import CampaignInfo
from qianmo.annotate._claim import Lease, end_lease
from qianmo.annotate._tables import ASSIGNMENTS, ITEMS, LABELS, SLOTS, STATS
from qianmo.errors import QianmoError
from qianmo.standard import new_id, utcnow
from qianmo.store import Prepared, PreparedCache, arg, json_text

JUST_ENDED = "this assignment has just ended"
TAKEN = "your lease expired and the item went to someone else; take the next one"


@dataclass(frozen=True)
class Counted:
    labels: int
    annotator_status: str
    # (remaining, state, record id) of the item after its count was taken, when taken here
    item: tuple[int, str, str] | None = None


NEW_LABEL = Prepared(insert(LABELS).values({c.name: arg(c.name) for c in LABELS.c}))


def label_row(
    lease: Lease,
    qid: str,
    slot: int | None,
    answer: Any,
    state: str,
    duration_ms: int | None,
    *,
    correct: bool | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "campaign_id": lease.campaign_id,
        "item_id": lease.item_id,
        "question_id": qid,
        "slot": slot,
        "annotator_id": lease.annotator_id,
        "assignment_id": lease.id,
        "answer": answer,
        "state": state,
        "correct": correct,
        "duration_ms": duration_ms,
        "created_at": utcnow(),
    }


# One per set of active question versions; a campaign's set changes when a question is added.
_FILLS = PreparedCache(size=256)


def _fill(question_ids: tuple[str, ...]) -> Prepared:
    """Mark the lease's slots of the active question versions done, returning them."""
    return _FILLS.get(
        question_ids,
        lambda: (
            update(SLOTS)
            .where(
                SLOTS.c.assignment_id == arg("aid"),
                SLOTS.c.state == "leased",
                SLOTS.c.question_id.in_(question_ids),
            )
            .values(state="done", lease_expires=None)
            .returning(SLOTS.c.question_id, SLOTS.c.slot)
        ),
    )


_COUNT_LABEL = Prepared(
    update(STATS)
    .where(STATS.c.campaign_id == arg("cid"), STATS.c.annotator_id == arg("uid"))
    .values(labelled=STATS.c.labelled + 1, updated_at=arg("at"))
    .returning(STATS.c.status)
)


def _in_steps(
    conn: Connection, info: CampaignInfo, lease: Lease, checked: dict[str, Any], ms: int | None
) -> Counted:
    if not end_lease(conn, lease.id, "submitted", release=False):
        raise QianmoError(JUST_ENDED, object_id=lease.id)
    filled = _fill(tuple(info.question_ids)).run(conn, {"aid": lease.id}).rows
    if not filled:
        raise QianmoError(TAKEN, object_id=lease.id)
    by_id = dict(info.questions)
    NEW_LABEL.run_many(
        conn,
        [label_row(lease, q, n, checked[by_id[q].name], "counted", ms) for q, n in filled],
    )
    status = _COUNT_LABEL.run(
        conn, {"cid": info.id, "uid": lease.annotator_id, "at": utcnow()}
    ).one()[0]
    return Counted(len(filled), status)


def _build_all_in_one() -> Any:
    """(leases ended, slots filled, the annotator's status, the item's remaining count, state
    and record): the five writes in one statement. Taking the labels off the item's count
    locks its row until commit, so the submits of one item queue there from this statement
    on (`count_and_commit` took it after the claim, a round trip later: one round trip more
    a label than holding it across the claim cost).
    The fill reads the ended lease, so it runs after it (the order `end_lease` locks in).
    The active question versions and the answers given come as arrays, one element per
    version, so the statement's text is the same for every campaign: one statement, and one
    prepared plan per connection, for all of them."""
    qids = arg("qids", ARRAY(String()))
    at = arg("at", DateTime(timezone=True))
    ended = (
        update(ASSIGNMENTS)
        .where(ASSIGNMENTS.c.id == arg("aid", String()), ASSIGNMENTS.c.state == "leased")
        .values(state="submitted", finished_at=at)
        .returning(ASSIGNMENTS.c.id)
        .cte("ended")
    )
    filled = (
        update(SLOTS)
        .where(
            SLOTS.c.assignment_id.in_(select(ended.c.id)),
            SLOTS.c.state == "leased",
            SLOTS.c.question_id == any_(qids),
        )
        .values(state="done", lease_expires=None)
        .returning(SLOTS.c.question_id, SLOTS.c.slot)
        .cte("filled")
    )
    given = (
        func.unnest(qids, arg("ids", ARRAY(String())), arg("answers", ARRAY(Text())))
        .table_valued("qid", "id", "answer")
        .render_derived("given")
    )
    rows = select(
        given.c.id,
        arg("cid", String()),
        arg("item", String()),
        filled.c.question_id,
        filled.c.slot,
        arg("uid", String()),
        arg("aid", String()),
        cast(given.c.answer, JSON),
        literal("counted", String()),
        arg("ms", Integer()),
        at,
    ).select_from(filled.join(given, given.c.qid == filled.c.question_id))
    columns = [
        "id",
        "campaign_id",
        "item_id",
        "question_id",
        "slot",
        "annotator_id",
        "assignment_id",
        "answer",
        "state",
        "duration_ms",
        "created_at",
    ]
    labels = insert(LABELS).from_select(columns, rows).cte("labels")
    counted = (
        update(STATS)
        .where(STATS.c.campaign_id == arg("cid"), STATS.c.annotator_id == arg("uid"))
        .values(labelled=STATS.c.labelled + 1, updated_at=at)
        .returning(STATS.c.status)
        .cte("counted")
    )
    n_filled = select(func.count()).select_from(filled).scalar_subquery()
    item = (
        update(ITEMS)
        .where(ITEMS.c.id == arg("item", String()))
        .values(remaining=ITEMS.c.remaining - n_filled)
        .returning(ITEMS.c.remaining, ITEMS.c.state, ITEMS.c.record_id)
        .cte("item")
    )
    return select(
        select(func.count()).select_from(ended).scalar_subquery(),
        n_filled,
        select(counted.c.status).scalar_subquery(),
        select(item.c.remaining).scalar_subquery(),
        select(item.c.state).scalar_subquery(),
        select(item.c.record_id).scalar_subquery(),
    ).add_cte(labels)


ALL_IN_ONE = Prepared(_build_all_in_one())


def _in_one(
    conn: Connection, info: CampaignInfo, lease: Lease, checked: dict[str, Any], ms: int | None
) -> Counted:
    qids = info.question_ids
    # The transaction's first write (the lease's read and the checks ran before it began:
    # `store_labels`), so its BEGIN goes with it.
    ended, filled, status, remaining, state, record_id = ALL_IN_ONE.run_begun(
        conn,
        {
            "aid": lease.id,
            "cid": info.id,
            "item": lease.item_id,
            "uid": lease.annotator_id,
            # As text, which the statement casts to INTEGER: psycopg keys its prepared
            # statements by the parameters' types as well, and types None as unknown but an
            # int as int2 or int4 by its size, so durations made up to three prepared
            # statements of this one per connection, and not the one `warm_up` planned.
            "ms": None if ms is None else str(ms),
            "at": utcnow(),
            "qids": qids,
            "ids": [new_id() for _ in qids],
            "answers": [json_text(checked[q.name]) for _, q in info.questions],
        },
    ).one()
    if not ended:
        raise QianmoError(JUST_ENDED, object_id=lease.id)
    if not filled:
        raise QianmoError(TAKEN, object_id=lease.id)
    return Counted(filled, status, (remaining, state, record_id))


def counted_labels(
    conn: Connection,
    info: CampaignInfo,
    lease: Lease,
    checked: dict[str, Any],
    duration_ms: int | None,
) -> Counted:
    """End the lease, fill its slots with the checked answers and count them."""
    if conn.dialect.name == "postgresql":
        return _in_one(conn, info, lease, checked, duration_ms)
    return _in_steps(conn, info, lease, checked, duration_ms)
