"""Import one input: stream its rows, commit records and rejected rows batch by batch.

Each batch commits in one transaction with the import's counts and checkpoint (the number of
rows consumed), so a crash or Ctrl-C leaves no half-written batch and running the same command
again resumes the unfinished import from its checkpoint. Records the source already holds
(same content hash or original id) are skipped, so importing a file twice adds nothing.
`strict` validates everything first and writes all or nothing, in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from qianmo.errors import QianmoError
from qianmo.ingest._convert import Defaults, build_record, raw_text
from qianmo.ingest._mapping import Mapping
from qianmo.ingest._registry import ReadOptions, Row, read_rows
from qianmo.ingest._terms import apply_terms, stated_terms
from qianmo.standard import FieldProblem, Record, new_id, utcnow
from qianmo.store import (
    Database,
    ImportRow,
    JobRow,
    RecordRow,
    RejectedRowRow,
    add_records,
    audit,
)

BATCH_SIZE = 2000
# How many bad rows an import summary lists; all of them are stored.
LISTED_PROBLEMS = 50
RESUMABLE = ("running", "interrupted", "failed")


@dataclass(frozen=True)
class IngestOptions:
    format: str = "auto"
    mapping: str | None = None
    source: str | None = None
    org: str | None = None
    license: str | None = None
    tlp: str | None = None
    classification: str | None = None
    strict: bool = False
    split: str | None = None
    batch_size: int = BATCH_SIZE

    def identity(self) -> dict[str, Any]:
        """What makes two runs the same import (the batch size does not)."""
        out = asdict(self)
        out.pop("batch_size")
        return out


@dataclass
class ImportSummary:
    import_id: str
    file: str
    format: str
    read: int = 0
    added: int = 0
    duplicates: int = 0
    # Records that got a new version: a source re-synced, or a generic file ingested again
    # under other terms (_terms.py)
    updated: int = 0
    rejected: int = 0
    resumed: bool = False
    # A source importer skipped the input unread: same bytes and options as its last import.
    input_unchanged: bool = False
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def counts(self, position: int) -> dict[str, int]:
        return {
            "read": self.read,
            "added": self.added,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "rejected": self.rejected,
            "position": position,
        }


@dataclass(frozen=True)
class Progress:
    done: int
    summary: ImportSummary
    # True while a transaction is open: a progress report must not write then (SQLite has
    # one writer, and it is us).
    in_transaction: bool = False


ProgressFn = Callable[[Progress], None]


class StrictAbort(QianmoError):
    """`--strict` found bad rows: nothing was written."""

    def __init__(self, file: str, bad: int, problems: list[str]) -> None:
        listed = "\n".join(problems)
        super().__init__(f"{bad} bad row(s); nothing was written (--strict)\n{listed}", file=file)
        self.problems = problems
        self.bad = bad


def content_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (names and bytes, in name order)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        if path.is_dir():
            h.update(str(p.relative_to(path)).encode() + b"\0")
        with p.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


@dataclass
class Run:
    """What one import needs while it streams."""

    db: Database
    path: Path
    label: str
    fmt: str
    options: IngestOptions
    mapping: Mapping | None
    defaults: Defaults
    actor: str
    progress: ProgressFn | None

    def rows(self) -> Iterator[Row]:
        read_opts = ReadOptions(split=self.options.split)
        prefix = str(self.path)
        for row in read_rows(self.path, self.fmt, read_opts):
            if prefix != self.label and row.where.startswith(prefix):
                row = Row(self.label + row.where[len(prefix) :], row.data, row.raw, row.problem)
            yield row

    def report(self, done: int, summary: ImportSummary, in_transaction: bool = False) -> None:
        if self.progress is not None:
            self.progress(Progress(done, summary, in_transaction))


def _problem_lines(where: str, problems: list[FieldProblem]) -> list[str]:
    return [f"{where}: {p}" for p in problems]


def _reject(import_id: str, row: Row, problems: list[FieldProblem]) -> dict[str, Any]:
    reasons = [{"field": p.field, "reason": p.reason} for p in problems]
    return {
        "import_id": import_id,
        "location": row.where[:1100],
        "raw": raw_text(row),
        "reasons": reasons,
    }


def _fresh_ids(session: Session, records: list[Record]) -> None:
    """A record keeps the id it came with (an export re-imported) unless that id is taken."""
    ids = [r.id for r in records]
    taken = set(session.execute(select(RecordRow.id).where(RecordRow.id.in_(ids))).scalars())
    seen: set[str] = set()
    for r in records:
        if r.id in taken or r.id in seen:
            r.id = new_id()
        seen.add(r.id)


def _write_batch(
    s: Session,
    run: Run,
    summary: ImportSummary,
    records: list[Record],
    rejects: list[dict[str, Any]],
) -> None:
    if records:
        _fresh_ids(s, records)
        result = add_records(
            s, records, actor=run.actor, import_id=summary.import_id, action="ingest"
        )
        held = set(result.duplicates)
        updated = apply_terms(
            s,
            [r for r in records if r.id in held],
            terms=stated_terms(run.options.org, run.options.license, run.options.tlp),
            import_id=summary.import_id,
            actor=run.actor,
        )
        summary.added += len(result.added)
        summary.updated += updated
        summary.duplicates += len(result.duplicates) - updated
    if rejects:
        s.execute(insert(RejectedRowRow), rejects)
        summary.rejected += len(rejects)


def _consume(
    run: Run,
    rows: Iterator[Row],
    summary: ImportSummary,
    sink: Callable[[list[Record], list[dict[str, Any]]], None],
) -> int:
    """Turn rows into records batch by batch, handing each batch to `sink`; rows consumed."""
    records: list[Record] = []
    rejects: list[dict[str, Any]] = []
    consumed = 0
    for row in rows:
        consumed += 1
        summary.read += 1
        result = build_record(row, run.mapping, run.defaults, summary.import_id)
        if isinstance(result, Record):
            records.append(result)
        else:
            rejects.append(_reject(summary.import_id, row, result))
            if len(summary.problems) < LISTED_PROBLEMS:
                summary.problems.extend(_problem_lines(row.where, result))
        if len(records) + len(rejects) >= run.options.batch_size:
            sink(records, rejects)
            records, rejects = [], []
    if records or rejects:
        sink(records, rejects)
    return consumed


def _import_row(run: Run, summary: ImportSummary, sha: str, job_id: str | None) -> ImportRow:
    return ImportRow(
        id=summary.import_id,
        file_name=run.label[:1024],
        sha256=sha,
        format=run.fmt,
        status="running",
        options={"identity": run.options.identity()},
        counts=summary.counts(0),
        actor=run.actor,
        job_id=job_id,
    )


def _resumable(s: Session, run: Run, sha: str, job_id: str | None) -> ImportRow | None:
    """An unfinished import of the same bytes with the same options whose job is not running."""
    candidates = s.execute(
        select(ImportRow)
        .where(
            ImportRow.sha256 == sha, ImportRow.format == run.fmt, ImportRow.status.in_(RESUMABLE)
        )
        .order_by(ImportRow.created_at.desc())
    ).scalars()
    for imp in candidates:
        if (imp.options or {}).get("identity") != run.options.identity():
            continue
        job = s.get(JobRow, imp.job_id) if imp.job_id and imp.job_id != job_id else None
        if job is None or job.status != "running":
            return imp
    return None


def _open_import(run: Run, sha: str, job_id: str | None) -> tuple[ImportSummary, int]:
    """Resume the unfinished import of this input, or start a new one: (summary, position)."""
    with run.db.write() as s:
        imp = _resumable(s, run, sha, job_id)
        if imp is not None:
            c = dict(imp.counts or {})
            imp.status, imp.job_id = "running", job_id or imp.job_id
            summary = ImportSummary(
                imp.id,
                run.label,
                run.fmt,
                read=c.get("read", 0),
                added=c.get("added", 0),
                duplicates=c.get("duplicates", 0),
                updated=c.get("updated", 0),
                rejected=c.get("rejected", 0),
                resumed=True,
            )
            return summary, int(c.get("position", 0))
        summary = ImportSummary(new_id(), run.label, run.fmt)
        s.add(_import_row(run, summary, sha, job_id))
        audit(
            s,
            actor=run.actor,
            action="ingest.start",
            object_type="import",
            object_ids=[summary.import_id],
        )
        return summary, 0


def _finish(s: Session, summary: ImportSummary, position: int, actor: str) -> None:
    imp = s.get(ImportRow, summary.import_id)
    assert imp is not None
    imp.status, imp.finished_at, imp.counts = "done", utcnow(), summary.counts(position)
    audit(
        s, actor=actor, action="ingest.done", object_type="import", object_ids=[summary.import_id]
    )


def _mark(db: Database, import_id: str, status: str) -> None:
    # Best effort after a failure: the batches already committed stand either way, and the
    # import is resumable whether or not this mark lands.
    with contextlib.suppress(SQLAlchemyError), db.write() as s:
        imp = s.get(ImportRow, import_id)
        if imp is not None and imp.status == "running":
            imp.status = status


def run_incremental(run: Run, sha: str, job_id: str | None) -> ImportSummary:
    summary, position = _open_import(run, sha, job_id)
    rows = run.rows()
    for _ in islice(rows, position):  # rows committed before a crash
        pass

    def commit(records: list[Record], rejects: list[dict[str, Any]]) -> None:
        nonlocal position
        with run.db.write() as s:
            _write_batch(s, run, summary, records, rejects)
            position += len(records) + len(rejects)
            imp = s.get(ImportRow, summary.import_id)
            assert imp is not None
            imp.counts = summary.counts(position)
        run.report(position, summary)

    try:
        _consume(run, rows, summary, commit)
        with run.db.write() as s:
            _finish(s, summary, position, run.actor)
    except BaseException:
        _mark(run.db, summary.import_id, "interrupted")
        raise
    return summary


def run_strict(run: Run, sha: str, job_id: str | None) -> ImportSummary:
    """Validate every row first; write all of them in one transaction, or nothing."""
    check = ImportSummary("", run.label, run.fmt)
    bad = 0

    def tally(records: list[Record], rejects: list[dict[str, Any]]) -> None:
        nonlocal bad
        bad += len(rejects)
        run.report(check.read, check)

    _consume(run, run.rows(), check, tally)
    if bad:
        raise StrictAbort(run.label, bad, check.problems)
    summary = ImportSummary(new_id(), run.label, run.fmt)
    with run.db.write() as s:
        s.add(_import_row(run, summary, sha, job_id))
        s.flush()

        def write(records: list[Record], rejects: list[dict[str, Any]]) -> None:
            _write_batch(s, run, summary, records, rejects)
            run.report(summary.read, summary, in_transaction=True)

        position = _consume(run, run.rows(), summary, write)
        _finish(s, summary, position, run.actor)
    return summary
