"""Full-text search that finds Chinese substrings: FTS5 trigram on SQLite, pg_trgm on PostgreSQL.

Trigram indexes answer queries of three or more characters; shorter ones (common in Chinese:
`注入`, `漏洞`) fall back to a substring scan, which is still correct, only slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, String, column, table, text
from sqlalchemy.orm import Session

from qianmo.standard import Record
from qianmo.store._access import Viewer, access_params
from qianmo.store._filters import RecordFilter
from qianmo.store._listing import LIMIT, LISTING_COLUMNS, RecordListing, listing_query, viewer_key
from qianmo.store._models import RecordRow
from qianmo.store._prepared import PreparedCache, arg
from qianmo.store._records import to_record

_fts = table("records_fts", column("record_id"), column("rowid"))


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_query(
    fts: bool, columns: Any, flt: RecordFilter | None, viewer: Viewer | None
) -> Select[Any]:
    """The search statement, its text (`q`) and `limit` given when it runs."""
    if fts:
        # The FTS index drives: it hands over matches newest-indexed first (rowid order, which
        # follows inserts; an edit re-indexes a record and so counts as new), each joined to
        # its record by id, and stops after `limit` visible ones. Sorting all matches by record
        # id instead read every match first: ~250 ms for a common word at 100,000 records,
        # against ~1 ms this way (bench/web_load.py).
        stmt = listing_query(columns, flt, viewer, limit=LIMIT, name_as_arg=True)
        return (
            stmt.join(_fts, _fts.c.record_id == RecordRow.id)
            .where(text("records_fts MATCH :q").bindparams(arg("q", String())))
            .order_by(_fts.c.rowid.desc())
        )
    stmt = listing_query(columns, flt, viewer, limit=LIMIT, name_as_arg=True).order_by(
        RecordRow.id.desc()
    )
    return stmt.where(RecordRow.search_text.ilike(arg("q", String()), escape="\\"))


# Search runs on every search page: prepared once per (filter, viewer, form), see _listing.py.
_PREPARED = PreparedCache()


def _search(
    session: Session,
    query: str,
    columns: Sequence[Any],
    flt: RecordFilter | None,
    viewer: Viewer | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    fts = session.get_bind().dialect.name == "sqlite" and len(query) >= 3
    key = (fts, tuple(str(c) for c in columns), flt or RecordFilter(), viewer_key(viewer))
    prepared = _PREPARED.get(key, lambda: _search_query(fts, columns, flt, viewer))
    q = '"' + query.replace('"', '""') + '"' if fts else _like_pattern(query)
    return prepared.on_session(session, {"q": q, "limit": limit, **access_params(viewer)}).rows


def search_listings(
    session: Session,
    query: str,
    *,
    flt: RecordFilter | None = None,
    viewer: Viewer | None = None,
    limit: int = 50,
) -> list[RecordListing]:
    """Records whose text contains `query` (case-insensitive), newest first, as listings."""
    query = query.strip()
    if not query:
        return []
    rows = _search(session, query, LISTING_COLUMNS, flt, viewer, limit)
    return [RecordListing(*row) for row in rows]


def search_records(
    session: Session,
    query: str,
    *,
    flt: RecordFilter | None = None,
    viewer: Viewer | None = None,
    limit: int = 50,
) -> list[Record]:
    """Records whose text contains `query` (case-insensitive), newest first."""
    query = query.strip()
    if not query:
        return []
    rows = _search(session, query, [RecordRow.data], flt, viewer, limit)
    return [to_record(row[0]) for row in rows]
