"""Counts of records grouped by a field, e.g. `published_at:month` for freshness."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from qianmo.errors import QianmoError
from qianmo.store._access import Viewer, visible_condition
from qianmo.store._filters import RecordFilter
from qianmo.store._models import RecordRow

_GROUPABLE: dict[str, Any] = {
    "kind": RecordRow.kind,
    "lang": RecordRow.lang,
    "domain": RecordRow.domain,
    "status": RecordRow.status,
    "org": RecordRow.org,
    "source": RecordRow.source_name,
    "tlp": RecordRow.tlp,
    "license": RecordRow.license,
    "classification": RecordRow.classification,
    "personal_info": RecordRow.personal_info,
    "eval_only": RecordRow.eval_only,
}
_DATE_FORMATS = {
    "year": ("%Y", "YYYY"),
    "month": ("%Y-%m", "YYYY-MM"),
    "day": ("%Y-%m-%d", "YYYY-MM-DD"),
}
STAT_FIELDS = [*_GROUPABLE, "domain:top", *(f"published_at:{g}" for g in _DATE_FORMATS)]


def _group_expr(session: Session, by: str) -> ColumnElement[Any]:
    name, _, grain = by.partition(":")
    if name in _GROUPABLE and not grain:
        return _GROUPABLE[name]
    if by == "domain:top":
        return func.substr(RecordRow.domain, 1, func.instr(RecordRow.domain + ".", ".") - 1)
    if name == "published_at" and grain in _DATE_FORMATS:
        sqlite_fmt, pg_fmt = _DATE_FORMATS[grain]
        if session.get_bind().dialect.name == "sqlite":
            return func.strftime(sqlite_fmt, RecordRow.published_at)
        return func.to_char(RecordRow.published_at, pg_fmt)
    raise QianmoError(f"cannot group by {by!r} (one of: {', '.join(STAT_FIELDS)})", field="--by")


def record_stats(
    session: Session,
    by: str,
    flt: RecordFilter | None = None,
    *,
    viewer: Viewer | None = None,
) -> list[tuple[str, int]]:
    """(value, count) pairs, most frequent first; dates in date order instead."""
    if by == "domain:top" and session.get_bind().dialect.name == "postgresql":
        expr: ColumnElement[Any] = func.split_part(RecordRow.domain, ".", 1)
    else:
        expr = _group_expr(session, by)
    query = select(expr.label("key"), func.count().label("n")).group_by(expr)
    query = (flt or RecordFilter()).apply(query)
    if viewer is not None:
        query = query.where(visible_condition(viewer))
    rows = [(str(k) if k is not None else "(none)", int(n)) for k, n in session.execute(query)]
    if by.startswith("published_at"):
        return sorted(rows)
    return sorted(rows, key=lambda kv: (-kv[1], kv[0]))
