"""Reading what a check needs of each selected record: a few columns of its row.

Each row is the record's id and the values of `PICKED_COLUMNS` (not its content, nor its JSON
document: having the database pick values out of every document was half of a check's CPU
time, bench/release_bench.py at 50k records). Read by keyset on the driver's cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from qianmo.circulate._view import PICKED_COLUMNS
from qianmo.store import RecordFilter, RecordRow, Viewer, visible_condition

PAGE = 10_000  # keyset page of the check's read: large pages, few queries


def iter_picked(
    session: Session, flt: RecordFilter, viewer: Viewer | None = None
) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    """Pages of the ids and picked values (`PICKED_COLUMNS`; see `RecordView.from_values`) of
    every selected record, in id order, read by keyset."""
    columns = [getattr(RecordRow, name) for name in PICKED_COLUMNS]
    base = flt.apply(cast("Select[Any]", select(RecordRow.id, *columns)))
    if viewer is not None:  # a request made by a user covers only what they may see
        base = base.where(visible_condition(viewer))
    connection, after = session.connection(), ""
    while True:
        query = base.where(RecordRow.id > after).order_by(RecordRow.id).limit(PAGE)
        page = connection.execute(query).all()
        if page:
            yield [r[0] for r in page], [tuple(r)[1:] for r in page]
        if len(page) < PAGE:
            return
        after = page[-1][0]
