"""Pages of records for lists and search: filter columns and the stored JSON, unvalidated.

A record is validated when it is written; a page of 50 validated again on every read cost
more than the query (profiled under bench/web_load.py), so lists read these instead of
`Record`s. Open a record (`get_record`) to work with it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Integer, Select, String, select
from sqlalchemy.orm import Session

from qianmo.standard import content_text
from qianmo.store._access import Viewer, access_key, access_params, visible_condition
from qianmo.store._filters import RecordFilter
from qianmo.store._models import RecordRow
from qianmo.store._prepared import PreparedCache, arg

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
    limit: int | BindParameter[Any],
    after: str | BindParameter[Any] | None = None,
    name_as_arg: bool = False,
) -> Select[Any]:
    """Selected, visible records (no order yet), keyset-paged by id with `after` (values, or
    `arg`s given when a prepared form runs); with `name_as_arg` the viewer's name is a
    runtime parameter (`visible_condition`), for statements kept by `viewer_key`."""
    query = (flt or RecordFilter()).apply(select(*columns).limit(limit))
    if viewer is not None:
        query = query.where(visible_condition(viewer, name_as_arg=name_as_arg))
    if isinstance(after, BindParameter) or after:
        query = query.where(RecordRow.id > after)
    return query


# Lists are read on every records page: their statements are prepared once per (filter, the
# viewer's organisations, paged or not) and run with the limit, the page's start and the
# viewer's name as parameters (store/_prepared.py).
_PREPARED = PreparedCache()
LIMIT, AFTER = arg("limit", Integer()), arg("after", String())


def viewer_key(viewer: Viewer | None) -> Hashable:
    """What a kept statement built for this viewer (with `name_as_arg`) depends on."""
    return None if viewer is None else access_key(viewer)


def list_listings(
    session: Session,
    flt: RecordFilter | None = None,
    *,
    viewer: Viewer | None = None,
    limit: int = 50,
    after: str | None = None,
) -> list[RecordListing]:
    """Like `list_records` (id order, keyset pages), as listings."""
    key = ("list", flt or RecordFilter(), viewer_key(viewer), bool(after))
    prepared = _PREPARED.get(
        key,
        lambda: listing_query(
            LISTING_COLUMNS,
            flt,
            viewer,
            limit=LIMIT,
            after=AFTER if after else None,
            name_as_arg=True,
        ).order_by(RecordRow.id),
    )
    params: dict[str, Any] = {"limit": limit, **access_params(viewer)}
    if after:
        params["after"] = after
    return [RecordListing(*row) for row in prepared.on_session(session, params).rows]
