"""Full-text search that finds Chinese substrings: FTS5 trigram on SQLite, pg_trgm on PostgreSQL.

Trigram indexes answer queries of three or more characters; shorter ones (common in Chinese:
`注入`, `漏洞`) fall back to a substring scan, which is still correct, only slower.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from qianmo.standard import Record
from qianmo.store._access import Viewer, visible_condition
from qianmo.store._filters import RecordFilter
from qianmo.store._models import RecordRow
from qianmo.store._records import to_record

_FTS_MATCH = "records.id IN (SELECT record_id FROM records_fts WHERE records_fts MATCH :q)"


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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
    stmt = select(RecordRow.data).order_by(RecordRow.id.desc()).limit(limit)
    stmt = (flt or RecordFilter()).apply(stmt)
    if viewer is not None:
        stmt = stmt.where(visible_condition(viewer))
    if session.get_bind().dialect.name == "sqlite" and len(query) >= 3:
        phrase = '"' + query.replace('"', '""') + '"'
        stmt = stmt.where(text(_FTS_MATCH)).params(q=phrase)
    else:
        stmt = stmt.where(RecordRow.search_text.ilike(_like_pattern(query), escape="\\"))
    return [to_record(d) for d in session.execute(stmt).scalars()]
