"""Running an import of a source or benchmark file: read, collect rejections, write, count."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from qianmo.ingest._pipeline import content_sha256
from qianmo.ingest.sources._catalog import Catalog
from qianmo.ingest.sources._common import Rejected, SourceError, SourceObject
from qianmo.ingest.sources._formats import FORMATS, SourceFormat
from qianmo.ingest.sources._write import WriteCounts, Writer, withdraw_missing
from qianmo.standard import Record, new_id, utcnow
from qianmo.store import Database, ImportRow, RejectedRowRow

BATCH = 1000


@dataclass
class SourceImport:
    import_id: str
    format: str
    counts: WriteCounts


def _as_objects(items: Iterable[Record | SourceObject]) -> Iterator[SourceObject]:
    for item in items:
        yield item if isinstance(item, SourceObject) else SourceObject(item)


def _recent(obj: SourceObject, since: datetime | None) -> bool:
    when = obj.record.valid_as_of or obj.record.published_at
    return since is None or when is None or when >= since


def read_objects(
    fmt: SourceFormat, paths: Iterable[Path], options: dict[str, Any], counts: WriteCounts
) -> list[SourceObject]:
    """Every object of every path; a bad file is listed in `counts.rejected`, the rest read."""
    objects: list[SourceObject] = []
    for path in paths:
        try:
            objects.extend(_as_objects(fmt.reader(path, options, on_reject=counts.rejected.append)))
        except SourceError as e:
            counts.rejected.append(Rejected(str(e.location) or str(path), e.message))
    return objects


def input_digest(files: list[Path]) -> str:
    """The generic ingest's SHA-256 of the input (one file or folder; several combined), so a
    `qianmo ingest` and a `qianmo sync` of the same bytes recognise each other."""
    digests = [content_sha256(f) for f in files]
    return (
        digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()
    )


def _unchanged_input(db: Database, fmt: str, label: str, digest: str) -> dict[str, Any] | None:
    """The counts of the last finished import of exactly these bytes, if there is one."""
    with db.read() as s:
        row = s.execute(
            select(ImportRow.counts)
            .where(
                ImportRow.format == fmt,
                ImportRow.file_name == label,
                ImportRow.sha256 == digest,
                ImportRow.status == "done",
            )
            .order_by(ImportRow.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
    return dict(row) if row is not None else None


def _record_skip(
    db: Database, fmt: str, label: str, digest: str, actor: str, previous: dict[str, Any]
) -> SourceImport:
    counts = WriteCounts(read=int(previous.get("read", 0)), unchanged=int(previous.get("read", 0)))
    import_id = new_id()
    with db.write() as s:
        s.add(
            ImportRow(
                id=import_id,
                file_name=label,
                sha256=digest,
                format=fmt,
                actor=actor,
                status="done",
                finished_at=utcnow(),
                counts={**counts.as_dict(), "input_unchanged": True},
            )
        )
    return SourceImport(import_id, fmt, counts)


def import_source(
    db: Database,
    format_name: str,
    paths: Iterable[Path | str],
    *,
    actor: str,
    options: dict[str, Any] | None = None,
    since: datetime | None = None,
    withdraw_absent: bool = False,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SourceImport:
    """Import (or re-sync) files of one source format into the database, in one transaction.

    Unchanged objects are skipped, changed ones get a new version; with `withdraw_absent`, the
    source's documents that the input no longer holds are withdrawn (a full mirror's sync).
    Input whose bytes match the last finished import is skipped unread unless `force`.
    """
    fmt = FORMATS.get(format_name)
    if fmt is None:
        raise SourceError(f"unknown source format {format_name!r} ({', '.join(FORMATS)})")
    files = [Path(p) for p in paths]
    label = ", ".join(str(f) for f in files)[:1024]
    digest = input_digest(files)
    # A mirror whose bytes did not change since its last import is skipped without parsing.
    previous = None if since or force else _unchanged_input(db, format_name, label, digest)
    if previous is not None:
        return _record_skip(db, format_name, label, digest, actor, previous)
    counts = WriteCounts()
    objects = read_objects(fmt, files, options or {}, counts)
    seen = {str(o.record.source.original_id) for o in objects}
    objects = [o for o in objects if _recent(o, since)]
    import_id = new_id()
    with db.write() as s:
        s.add(
            ImportRow(
                id=import_id,
                file_name=label,
                sha256=digest,
                format=format_name,
                actor=actor,
                options=options or {},
            )
        )
        s.flush()
        catalog = Catalog.from_store(s)
        catalog.add_objects(objects)  # all of them first: pools do not depend on batch order
        writer = Writer(fmt.family, actor, import_id, catalog, counts)
        for start in range(0, len(objects), BATCH):
            writer.write(s, objects[start : start + BATCH])
            if progress:
                progress(min(start + BATCH, len(objects)))
        if withdraw_absent and objects:
            name = objects[0].record.source.name
            counts.withdrawn += withdraw_missing(
                s, name, seen, actor=actor, reason="withdrawn upstream"
            )
        for r in counts.rejected:
            s.add(
                RejectedRowRow(
                    import_id=import_id, location=r.location[:1100], raw=r.raw, reasons=[r.reason]
                )
            )
        row = s.get(ImportRow, import_id)
        assert row is not None
        row.status, row.finished_at, row.counts = "done", utcnow(), counts.as_dict()
    return SourceImport(import_id, format_name, counts)
