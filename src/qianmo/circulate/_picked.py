"""Reading what a check needs of each selected record: a few values picked by the database.

Each row is the record's id and a JSON array of the values at `PICKED_PATHS` (not its content),
picked by the database in one call. Reading each whole document and parsing it in Python, then
validating it, cost most of a check (bench/release_bench.py at 50k records).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from qianmo.circulate._view import PICKED_PATHS
from qianmo.store import RecordFilter, RecordRow, Viewer, json_values, visible_condition

PAGE = 10_000  # keyset page of the check's read: large pages, few queries


def iter_picked(
    session: Session, flt: RecordFilter, viewer: Viewer | None = None
) -> Iterator[tuple[list[str], list[list[Any]]]]:
    """Pages of the ids and picked values (`PICKED_PATHS`; see `RecordView.from_values`) of
    every selected record, in id order, read by keyset."""
    picked = json_values(session, RecordRow.data, PICKED_PATHS)
    base = flt.apply(cast("Select[Any]", select(RecordRow.id, picked)))
    if viewer is not None:  # a request made by a user covers only what they may see
        base = base.where(visible_condition(viewer))
    connection, after = session.connection(), ""
    while True:
        query = base.where(RecordRow.id > after).order_by(RecordRow.id).limit(PAGE)
        page = connection.execute(query).all()
        if page:
            loads = orjson.loads  # SQLite answers text; PostgreSQL's driver the parsed list
            yield [r[0] for r in page], [loads(v) if isinstance(v, str) else v for _, v in page]
        if len(page) < PAGE:
            return
        after = page[-1][0]
