"""Pages of records for lists and search: filter columns and the stored JSON, unvalidated.

A record is validated when it is written; a page of 50 validated again on every read cost
more than the query (profiled under bench/web_load.py), so lists read these instead of
`Record`s. Open a record (`get_record`) to work with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from qianmo.standard import content_text
from qianmo.store._access import Viewer, visible_condition
from qianmo.store._filters import RecordFilter
from qianmo.store._models import RecordRow

LISTING_COLUMNS = (
    RecordRow.id,
    RecordRow.kind,
    RecordRow.version,
    RecordRow.status,
    RecordRow.lang,
    RecordRow.domain,
    RecordRow.org,
    RecordRow.tlp,
    RecordRow.data,
)


@dataclass(frozen=True)
class RecordListing:
    """A record as a list shows it; `data` is the whole document in the data standard."""

    id: str
    kind: str
    version: int
    status: str
    lang: str
    domain: str | None
    org: str | None
    tlp: str
    data: dict[str, Any]

    def text(self) -> str:
        return content_text(self.kind, self.data.get("content") or {})


def listing_query(
    columns: Sequence[Any],
    flt: RecordFilter | None,
    viewer: Viewer | None,
    *,
    limit: int,
    after: str | None = None,
) -> Select[Any]:
    """Selected, visible records (no order yet), keyset-paged by id with `after`."""
    query = (flt or RecordFilter()).apply(select(*columns).limit(limit))
    if viewer is not None:
        query = query.where(visible_condition(viewer))
    if after:
        query = query.where(RecordRow.id > after)
    return query


def list_listings(
    session: Session,
    flt: RecordFilter | None = None,
    *,
    viewer: Viewer | None = None,
    limit: int = 50,
    after: str | None = None,
) -> list[RecordListing]:
    """Like `list_records` (id order, keyset pages), as listings."""
    query = listing_query(LISTING_COLUMNS, flt, viewer, limit=limit, after=after)
    return [RecordListing(*row) for row in session.execute(query.order_by(RecordRow.id))]
