"""Where k-shot examples come from: accepted records outside the suite, like its own."""

from __future__ import annotations

from sqlalchemy import select

from qianmo.evaluate._items import Item
from qianmo.evaluate._suites import SUITE_KINDS, SuiteInfo, suite_record_ids
from qianmo.store import Database, RecordFilter, RecordRow

# Enough candidates to find k of each kind, answer type and language without reading
# a whole corpus; the hash order in pick_shots keeps the choice stable.
POOL_LIMIT = 2000


def _items(rows: list[RecordRow]) -> list[Item]:
    return [
        Item(
            position=-1,
            record_id=r.id,
            kind=r.kind,
            lang=r.lang,
            content=r.data["content"],
            domain=r.domain,
        )
        for r in rows
    ]


def shot_pool(db: Database, suite: SuiteInfo) -> list[Item]:
    """Records matching the suite's filters but not in it; failing that, any accepted ones."""
    inside = suite_record_ids(db, suite.id)
    base = select(RecordRow).where(RecordRow.status == "accepted", RecordRow.kind.in_(SUITE_KINDS))
    with db.read() as s:
        for query in (RecordFilter.parse(suite.filters).apply(base), base):
            rows = [
                r
                for r in s.execute(
                    query.order_by(RecordRow.id).limit(POOL_LIMIT + len(inside))
                ).scalars()
                if r.id not in inside
            ]
            if rows:
                return _items(rows[:POOL_LIMIT])
    return []
