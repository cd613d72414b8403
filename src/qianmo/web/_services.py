"""What routes call: the access rule applied, denials audited. No domain logic lives here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, NoReturn

from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.errors import NotFound, PolicyRefused, QianmoError
from qianmo.standard import Record, new_id
from qianmo.store import (
    Database,
    JobRow,
    RecordFilter,
    RecordListing,
    RecordRow,
    RecordVersionRow,
    audit,
    enqueue,
    get_record,
    list_listings,
    permits,
    search_listings,
)
from qianmo.web._deps import Principal

PAGE_MAX = 200


def audit_denied(db: Database, principal: Principal, object_type: str, object_id: str) -> None:
    """A direct request for something one may not see or do is written to the audit log."""
    with db.write() as s:
        audit(
            s,
            actor=principal.name,
            action="access.denied",
            object_type=object_type,
            object_ids=[object_id],
        )


def fetch_record(db: Database, s: Session, principal: Principal, record_id: str) -> Record:
    """The record if the viewer may see it; NotFound (and an audit entry) otherwise."""
    try:
        return get_record(s, record_id, viewer=principal.viewer)
    except NotFound:
        exists = s.get(RecordRow, record_id) is not None
    if exists:
        audit_denied(db, principal, "record", record_id)
    raise NotFound(f"no record {record_id}", object_id=record_id)


def require_on_record(db: Database, principal: Principal, record: Record, permission: str) -> None:
    """Refuse (403, audited) an action the viewer's role in the record's org does not allow."""
    if not permits(principal.viewer, permission, record.source.org):
        audit_denied(db, principal, "record", record.id)
        where = record.source.org or "no organisation"
        raise PolicyRefused(f"{principal.name} may not {permission} in {where}", field=permission)


@dataclass
class Page:
    records: list[RecordListing]
    next_after: str | None


def browse(
    session: Session,
    principal: Principal,
    flt: RecordFilter,
    *,
    q: str = "",
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """A page of visible records: filtered in id order, or search hits (newest first)."""
    limit = max(1, min(limit, PAGE_MAX))
    viewer = principal.viewer
    if q.strip():
        return Page(search_listings(session, q, flt=flt, viewer=viewer, limit=limit), None)
    records = list_listings(session, flt, viewer=viewer, limit=limit + 1, after=after)
    more = len(records) > limit
    records = records[:limit]
    return Page(records, records[-1].id if more and records else None)


@dataclass
class VersionInfo:
    version: int
    actor: str | None
    change: str
    created_at: datetime
    content_hash: str
    data: dict[str, Any]


def record_versions(session: Session, record_id: str) -> list[VersionInfo]:
    """Every version of a record (call only after `fetch_record` allowed it)."""
    rows = session.execute(
        select(RecordVersionRow)
        .where(RecordVersionRow.record_id == record_id)
        .order_by(RecordVersionRow.version)
    ).scalars()
    return [
        VersionInfo(r.version, r.actor, r.change, r.created_at, r.content_hash, r.data)
        for r in rows
    ]


def sees_all_jobs(principal: Principal) -> bool:
    return permits(principal.viewer, "jobs.manage") or permits(principal.viewer, "audit.read")


def visible_jobs(session: Session, principal: Principal, *, limit: int = 50) -> list[JobRow]:
    """One's own jobs; maintainers and admins see everyone's."""
    query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
    if not sees_all_jobs(principal):
        query = query.where(JobRow.actor == principal.name)
    return list(session.execute(query).scalars())


def fetch_job(db: Database, s: Session, principal: Principal, job_id: str) -> JobRow:
    row = s.get(JobRow, job_id)
    if row is None:
        raise NotFound(f"no job {job_id}", object_id=job_id)
    if row.actor != principal.name and not sees_all_jobs(principal):
        audit_denied(db, principal, "job", job_id)
        raise NotFound(f"no job {job_id}", object_id=job_id)
    return row


IMPORT_KIND = "ingest"
UPLOAD_MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ImportRequest:
    """What an upload asks for; the ingest job reads the file and applies these."""

    org: str
    format: str = "auto"
    license: str | None = None
    tlp: str | None = None
    source: str | None = None


def start_import(
    db: Database,
    principal: Principal,
    uploads_dir: Path,
    file_name: str,
    chunks: Iterable[bytes],
    request: ImportRequest,
) -> str:
    """Keep the uploaded file and enqueue an ingest job for it; returns the job id."""
    if not permits(principal.viewer, "records.create", request.org):
        audit_denied(db, principal, "org", request.org)
        raise PolicyRefused(
            f"{principal.name} may not import records for {request.org}", field="org"
        )
    path = _save_upload(uploads_dir, file_name, chunks)
    # The shape qianmo.ingest's "ingest" job reads: a path, a label and IngestOptions fields.
    options = {
        "format": request.format,
        "org": request.org,
        "license": request.license,
        "tlp": request.tlp,
        "source": request.source,
    }
    params: dict[str, Any] = {"path": str(path.resolve()), "label": file_name, "options": options}
    with db.write() as s:
        return enqueue(s, IMPORT_KIND, params, actor=principal.name)


def _save_upload(uploads_dir: Path, file_name: str, chunks: Iterable[bytes]) -> Path:
    # The stored name is ours (a fresh id plus a cleaned suffix): uploaded names are untrusted.
    suffix = "".join(c for c in PurePath(file_name).suffix[:12] if c.isalnum() or c == ".")
    uploads_dir.mkdir(parents=True, exist_ok=True)
    path = uploads_dir / f"{new_id()}{suffix}"
    size = 0
    with path.open("wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > UPLOAD_MAX_BYTES:
                out.close()
                path.unlink()
                raise QianmoError(f"the file is larger than {UPLOAD_MAX_BYTES} bytes", field="file")
            out.write(chunk)
    if size == 0:
        path.unlink()
        raise QianmoError("the file is empty", field="file")
    return path


def iter_upload(file: UploadFile, chunk: int = 1 << 20) -> Iterator[bytes]:
    """An upload's bytes in chunks (UploadFile spools to disk, so this stays sync-safe)."""
    file.file.seek(0)
    while data := file.file.read(chunk):
        yield data


def refuse(principal: Principal, permission: str, org: str | None) -> NoReturn:
    where = f" in {org}" if org else ""
    raise PolicyRefused(f"{principal.name} may not {permission}{where}", field=permission)
