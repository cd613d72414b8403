"""Reading imports back: each import with its counts, and the rows it rejected, kept raw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qianmo.errors import NotFound
from qianmo.store import ImportRow, RejectedRowRow


def import_dict(row: ImportRow) -> dict[str, Any]:
    counts = dict(row.counts or {})
    counts.pop("position", None)
    return {
        "id": row.id,
        "file": row.file_name,
        "sha256": row.sha256,
        "format": row.format,
        "status": row.status,
        "counts": counts,
        "options": (row.options or {}).get("identity", row.options),
        "actor": row.actor,
        "job_id": row.job_id,
        "created_at": row.created_at,
        "finished_at": row.finished_at,
    }


def list_imports(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ImportRow).order_by(ImportRow.created_at.desc(), ImportRow.id.desc()).limit(limit)
    ).scalars()
    return [import_dict(r) for r in rows]


def get_import(session: Session, import_id: str) -> dict[str, Any]:
    row = session.get(ImportRow, import_id)
    if row is None:
        raise NotFound(f"no import {import_id}", object_id=import_id)
    return import_dict(row)


def rejected_rows(
    session: Session, import_id: str, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """The import's rejected rows in file order: location, reasons and the raw row."""
    query = (
        select(RejectedRowRow)
        .where(RejectedRowRow.import_id == import_id)
        .order_by(RejectedRowRow.id)
        .limit(limit)
    )
    return [
        {"location": r.location, "reasons": r.reasons, "raw": r.raw}
        for r in session.execute(query).scalars()
    ]


def count_rejected(session: Session, import_id: str) -> int:
    query = select(func.count()).where(RejectedRowRow.import_id == import_id)
    return int(session.execute(query).scalar_one())


def problem_line(location: str, reason: dict[str, Any]) -> str:
    """`FILE:LINE: field: reason`, the form every bad row is reported in."""
    parts = [location, reason.get("field") or "", reason.get("reason") or ""]
    return ": ".join(p for p in parts if p)
