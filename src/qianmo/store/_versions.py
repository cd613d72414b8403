"""Saving new versions of many records at once: what a sync does to the objects that changed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from qianmo.errors import NotFound
from qianmo.standard import LineageStep, Record
from qianmo.store._audit import audit
from qianmo.store._models import RecordRow, RecordVersionRow
from qianmo.store._records import row_values


def save_versions(
    session: Session,
    edits: Sequence[tuple[Record, LineageStep | None]],
    *,
    actor: str,
    change: str,
) -> list[Record]:
    """`save_version` for a batch: one lookup, one update and one insert statement, and one
    audit entry, where one record at a time costs four statements and an entry each (a KEV
    catalogue attached to held CVE records versions thousands of them in one import)."""
    if not edits:
        return []
    ids = [rec.id for rec, _ in edits]
    held: dict[str, tuple[int, str | None]] = {}
    for start in range(0, len(ids), 500):  # keep the IN list within every backend's limit
        rows = session.execute(
            select(RecordRow.id, RecordRow.version, RecordRow.import_id).where(
                RecordRow.id.in_(ids[start : start + 500])
            )
        ).all()
        held.update((rid, (version, import_id)) for rid, version, import_id in rows)
    saved, values, versions = [], [], []
    for rec, step in edits:
        if rec.id not in held:
            raise NotFound(f"no record {rec.id}", object_id=rec.id)
        version, import_id = held[rec.id]
        data = rec.model_dump()
        data["version"] = version + 1
        if step is not None:
            data["lineage"]["steps"].append(step.model_dump())
        new = Record.model_validate(data)
        held[rec.id] = (new.version, import_id)  # a record edited twice in one batch
        row = row_values(new, import_id=import_id)
        values.append(row)
        versions.append(
            {
                "record_id": new.id,
                "version": new.version,
                "content_hash": new.content_hash,
                "data": row["data"],
                "actor": actor,
                "change": change,
            }
        )
        saved.append(new)
    # the ORM's bulk update by primary key: one executemany over the batch
    session.execute(update(RecordRow), values)
    # a Core insert: the ORM's bulk path costs more than the rows themselves (as in add_records)
    session.execute(insert(RecordVersionRow.metadata.tables["record_versions"]), versions)
    audit(session, actor=actor, action=change, object_type="record", object_ids=ids)
    return saved
