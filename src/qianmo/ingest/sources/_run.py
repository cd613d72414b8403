"""Running an import of a source or benchmark file: read, collect rejections, write, count."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from qianmo._gc import collector_paused
from qianmo.ingest._pipeline import content_sha256
from qianmo.ingest.sources._catalog import Catalog
from qianmo.ingest.sources._common import SourceError, SourceObject, output_options
from qianmo.ingest.sources._formats import FORMATS, SourceFormat
from qianmo.ingest.sources._mirror import (
    MirrorScan,
    load_state,
    read_file,
    save_state,
    scan_mirror,
)
from qianmo.ingest.sources._write import WriteCounts, Writer, withdraw_missing
from qianmo.standard import new_id, utcnow
from qianmo.store import Database, ImportRow, Prepared, RejectedRowRow, arg

BATCH = 1000


@dataclass
class SourceImport:
    import_id: str
    format: str
    counts: WriteCounts
    digest: str  # the input's SHA-256 (of a mirror folder: over its files' SHA-256s)
    # skipped unread: the same bytes as the last import of this input, with the same options
    input_unchanged: bool = False


@dataclass
class _Input:
    """What an import read: the objects, the ids of mirror files skipped as unchanged, the
    input's digest, and for a mirror folder its scan (whose state the import then keeps)."""

    label: str
    digest: str
    objects: list[SourceObject] = field(default_factory=list)
    kept_ids: set[str] = field(default_factory=set)
    mirror: tuple[Path, MirrorScan] | None = None
    unchanged: int | None = None  # nothing changed since the last import: the objects it holds


def _recent(obj: SourceObject, since: datetime | None) -> bool:
    when = obj.record.valid_as_of or obj.record.published_at
    return since is None or when is None or when >= since


def read_objects(
    fmt: SourceFormat, paths: Iterable[Path], options: dict[str, Any], counts: WriteCounts
) -> list[SourceObject]:
    """Every object of every path; a bad file is listed in `counts.rejected`, the rest read."""
    return [o for path in paths for o in read_file(fmt, path, options, counts) or []]


def input_digest(files: list[Path]) -> str:
    """The generic ingest's SHA-256 of the input (one file or folder; several combined), so a
    `qianmo ingest` and a `qianmo sync` of the same bytes recognise each other."""
    digests = [content_sha256(f) for f in files]
    return (
        digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()
    )


_IMPORTS: Table = ImportRow.__table__  # type: ignore[assignment]
# Prepared (store/_prepared.py): both run once per import, where SQLAlchemy's execution layer
# cost more than the statements. The look-up took 1.46 → 0.44 ms of the ATT&CK sample's import,
# and the row (the ORM's INSERT at the start and UPDATE at the end, now one INSERT) 1.7 ms
# less (CPU, mean of 60 imports).
_LAST_INPUT = Prepared(
    select(_IMPORTS.c.sha256, _IMPORTS.c.counts, _IMPORTS.c.options)
    .where(
        _IMPORTS.c.format == arg("format"),
        _IMPORTS.c.file_name == arg("file_name"),
        _IMPORTS.c.status == "done",
    )
    .order_by(_IMPORTS.c.created_at.desc(), _IMPORTS.c.id.desc())
    .limit(1)
)
_ADD_IMPORT = Prepared(insert(_IMPORTS).values({c.name: arg(c.name) for c in _IMPORTS.columns}))


def _unchanged_input(
    db: Database, fmt: str, label: str, digest: str, options: dict[str, Any]
) -> dict[str, Any] | None:
    """The counts of the latest finished import of this input, if it read exactly these bytes
    with the same output options. The latest, not any import of these bytes: after A, B and A
    again, the records hold B, and A has to be read."""
    with db.lookups() as s:
        row = _LAST_INPUT.on_session(s, {"format": fmt, "file_name": label}).first()
    if row is None or row[0] != digest or output_options(row[2]) != output_options(options):
        return None
    return dict(row[1])


def _row_options(options: dict[str, Any], since: datetime | None) -> dict[str, Any]:
    """The options kept on the import row: the reader's, and `since`, which also changes what
    the import writes (a later import of the same bytes without it is not skipped)."""
    return {**options, "since": since.isoformat()} if since else options


def _import_row(
    session: Session,
    import_id: str,
    inp: _Input,
    run: _Run,
    counts: dict[str, Any],
    *,
    since: datetime | None = None,
    started: datetime | None = None,
) -> None:
    """The import's row, written once with everything it says, at the end of the transaction
    (records name their import by id, without a foreign key; its rejected rows follow it)."""
    finished = utcnow()
    row = {
        "id": import_id,
        "file_name": inp.label,
        "sha256": inp.digest,
        "format": run.fmt.name,
        "actor": run.actor,
        "options": _row_options(run.options, since),
        "job_id": run.job_id,
        "status": "done",
        "created_at": started or finished,
        "finished_at": finished,
        "counts": counts,
    }
    _ADD_IMPORT.run(session.connection(), row)


def _record_skip(db: Database, inp: _Input, run: _Run) -> SourceImport:
    counts = WriteCounts(read=inp.unchanged or 0, unchanged=inp.unchanged or 0)
    import_id = new_id()
    with db.write() as s:
        _import_row(s, import_id, inp, run, {**counts.as_dict(), "input_unchanged": True})
    return SourceImport(import_id, run.fmt.name, counts, inp.digest, input_unchanged=True)


def _read(
    db: Database,
    fmt: SourceFormat,
    files: list[Path],
    options: dict[str, Any],
    fresh: bool,
    counts: WriteCounts,
) -> _Input:
    """Read the input once, file by file: of a mirror folder only the changed files, other
    input whole unless its bytes and output options match its latest import
    (`fresh`: read and compare anyway)."""
    # Named by the resolved path: `qianmo ingest` runs from the absolute path, `qianmo sync` from
    # the path as typed, and the same file has to be the same input for both.
    label = ", ".join(str(f.resolve()) for f in files)[:1024]
    if fmt.mirror_suffixes and len(files) == 1 and files[0].is_dir():
        with db.read() as s:
            state = {} if fresh else load_state(s, fmt.name, files[0], options)
        scan = scan_mirror(fmt, files[0], state, options, counts)
        inp = _Input(label, scan.digest, scan.objects, scan.kept_ids, (files[0], scan))
        if state and scan.unchanged:
            inp.unchanged = len(scan.kept_ids)
        return inp
    digest = input_digest(files)
    # Input whose bytes did not change since its last import, imported with the same options,
    # is skipped without parsing.
    previous = None if fresh else _unchanged_input(db, fmt.name, label, digest, options)
    if previous is not None:
        return _Input(label, digest, unchanged=int(previous.get("read", 0)))
    return _Input(label, digest, read_objects(fmt, files, options, counts))


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
    job_id: str | None = None,
) -> SourceImport:
    """Import (or re-sync) files of one source format into the database, in one transaction.

    Unchanged objects are skipped, changed ones get a new version; with `withdraw_absent`, the
    source's documents that the input no longer holds are withdrawn (a full mirror's sync).
    Input whose bytes match the latest finished import of that input, and whose output options
    (licence, TLP, org, source name) match that import's, is skipped unread unless `force`; in
    a mirror folder, so is each unchanged file read under the same options. `job_id` names the
    job that ran the import on its row.
    """
    fmt = FORMATS.get(format_name)
    if fmt is None:
        raise SourceError(f"unknown source format {format_name!r} ({', '.join(FORMATS)})")
    with collector_paused():
        # What was read dies with `_import`'s frame, inside the pause: held past it, every parsed
        # object and record was scanned by the collection that resuming it starts (1.1 -> 0.8 ms
        # of the ATT&CK sample's import, gc.callbacks).
        run = _Run(fmt, actor, options or {}, WriteCounts(), progress, job_id)
        return _import(db, [Path(p) for p in paths], since, force, withdraw_absent, run)


def _import(
    db: Database,
    paths: list[Path],
    since: datetime | None,
    force: bool,
    withdraw_absent: bool,
    run: _Run,
) -> SourceImport:
    inp = _read(db, run.fmt, paths, run.options, bool(since or force), run.counts)
    if inp.unchanged is not None:
        return _record_skip(db, inp, run)
    return run.write(db, inp, since, withdraw_absent)


@dataclass
class _Run:
    fmt: SourceFormat
    actor: str
    options: dict[str, Any]
    counts: WriteCounts
    progress: Callable[[int], None] | None
    job_id: str | None

    def write(
        self, db: Database, inp: _Input, since: datetime | None, withdraw_absent: bool
    ) -> SourceImport:
        """Write what was read in one transaction: the objects batch by batch, withdrawals,
        the mirror's file state, the import row and its rejected rows."""
        counts = self.counts
        seen = {str(o.record.source.original_id) for o in inp.objects} | inp.kept_ids
        objects = [o for o in inp.objects if _recent(o, since)]
        counts.read += len(inp.kept_ids)  # objects of unchanged mirror files
        counts.unchanged += len(inp.kept_ids)
        import_id, started = new_id(), utcnow()
        with db.write() as s:
            self._objects(s, objects, import_id)
            if withdraw_absent and seen:
                # named by what the input holds, before `since` filtered it
                name = inp.objects[0].record.source.name if inp.objects else self._source_name()
                counts.withdrawn += withdraw_missing(
                    s, name, inp.label, seen, actor=self.actor, reason="withdrawn upstream"
                )
            if inp.mirror is not None and since is None:
                save_state(s, self.fmt.name, *inp.mirror, import_id)
            _import_row(s, import_id, inp, self, counts.as_dict(), since=since, started=started)
            s.add_all(
                RejectedRowRow(
                    import_id=import_id, location=r.location[:1100], raw=r.raw, reasons=[r.reason]
                )
                for r in counts.rejected
            )
        return SourceImport(import_id, self.fmt.name, counts, inp.digest)

    def _objects(self, s: Session, objects: list[SourceObject], import_id: str) -> None:
        catalog = Catalog.from_store(s)
        catalog.add_objects(objects)  # all of them first: pools do not depend on batch order
        writer = Writer(self.fmt.family, self.actor, import_id, catalog, self.counts)
        for start in range(0, len(objects), BATCH):
            writer.write(s, objects[start : start + BATCH])
            if self.progress:
                self.progress(min(start + BATCH, len(objects)))

    def _source_name(self) -> str:
        """The source a mirror's records are under when none of its files changed (only some
        disappeared): as the import that read them named it."""
        return str(self.options.get("source") or self.fmt.family or self.fmt.name)
