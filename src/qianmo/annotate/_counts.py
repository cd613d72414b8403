"""Keeping `annotation_items.remaining` right when slots change other than by a submit."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from qianmo.annotate._tables import ITEMS, QUESTIONS, SLOTS


def recount_remaining(
    conn: Connection, *, item_ids: list[str] | None = None, campaign_id: str | None = None
) -> None:
    """Recount `remaining` (open slots of active question versions) after slots changed."""
    slots, questions, items = SLOTS, QUESTIONS, ITEMS
    count = (
        select(func.count())
        .select_from(slots.join(questions, questions.c.id == slots.c.question_id))
        .where(slots.c.item_id == items.c.id, questions.c.active, slots.c.state != "done")
        .scalar_subquery()
    )
    stmt = update(items).values(remaining=count)
    if item_ids is not None:
        if not item_ids:
            return
        stmt = stmt.where(items.c.id.in_(item_ids))
    if campaign_id is not None:
        stmt = stmt.where(items.c.campaign_id == campaign_id)
    conn.execute(stmt)
