"""Reading what a check needs of each selected record: a few columns of its row.

Each row is the record's id and the values of `PICKED_COLUMNS` (not its content, nor its JSON
document: having the database pick values out of every document was half of a check's CPU
time, bench/release_bench.py at 50k records). Read by keyset on the driver's cursor
(`Prepared`: SQLAlchemy's result rows cost ~0.3 µs a record more), `eval_only` as the integer
SQLite stores (`RecordView.from_values` takes its truth), so no value needs converting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Select, String, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from qianmo.circulate._view import PICKED_COLUMNS
from qianmo.store import Prepared, RecordFilter, RecordRow, Viewer, arg, visible_condition

PAGE = 10_000  # keyset page of the check's read: large pages, few queries


def _raw(name: str) -> Any:
    """A column read as the driver gives it: no result processing (the score as a float, which
    PostgreSQL's numeric processing would want the column's type code for; eval_only as stored,
    an integer on SQLite)."""
    column = getattr(RecordRow, name)
    return type_coerce(column, NullType()) if name in ("quality_score", "eval_only") else column


def iter_picked(
    session: Session, flt: RecordFilter, viewer: Viewer | None = None
) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    """Pages of the ids and picked values (`PICKED_COLUMNS`; see `RecordView.from_values`) of
    every selected record, in id order, read by keyset."""
    columns = [_raw(name) for name in PICKED_COLUMNS]
    base = flt.apply(cast("Select[Any]", select(RecordRow.id, *columns)))
    if viewer is not None:  # a request made by a user covers only what they may see
        base = base.where(visible_condition(viewer))
    query = Prepared(
        base.where(RecordRow.id > arg("after", String())).order_by(RecordRow.id).limit(PAGE)
    )
    connection, after = session.connection(), ""
    while True:
        page = query.run(connection, {"after": after}).rows
        if page:
            yield [r[0] for r in page], [r[1:] for r in page]
        if len(page) < PAGE:
            return
        after = page[-1][0]
