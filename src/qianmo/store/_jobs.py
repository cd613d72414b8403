"""Long work as jobs: a table with progress and heartbeats, and workers that claim jobs safely.

PostgreSQL workers claim with `FOR UPDATE SKIP LOCKED`, so several run at once; on SQLite the
claim runs in a `BEGIN IMMEDIATE` transaction, the single-writer path. A running job whose
heartbeat stops (its worker was killed) is put back in the queue with its checkpoint, and the
next worker resumes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from qianmo.errors import NotFound, QianmoError
from qianmo.standard import new_id, utcnow
from qianmo.store._audit import audit
from qianmo.store._db import Database
from qianmo.store._models import JobRow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class JobCancelled(Exception):
    """Raised inside a handler at its next progress call after someone cancelled the job."""


class JobContext:
    """What a handler gets: its parameters, a checkpoint to resume from, and progress calls."""

    def __init__(self, db: Database, job: JobRow) -> None:
        self.db = db
        self.job_id = job.id
        self.kind = job.kind
        self.params: dict[str, Any] = dict(job.params or {})
        self.checkpoint: dict[str, Any] = dict(job.checkpoint or {})
        self.actor = job.actor or "system"
        self.attempt = job.attempts

    def progress(
        self, done: int, total: int | None = None, message: str = "", **checkpoint: Any
    ) -> None:
        """Record progress (and, optionally, where to resume); raise if cancelled."""
        if checkpoint:
            self.checkpoint.update(checkpoint)
        with self.db.write() as s:
            row = s.get(JobRow, self.job_id)
            assert row is not None
            row.done, row.message, row.heartbeat_at = done, message[:512], utcnow()
            if total is not None:
                row.total = total
            if checkpoint:
                row.checkpoint = dict(self.checkpoint)
            cancelled = row.cancel_requested
        if cancelled:
            raise JobCancelled(self.job_id)


JobHandler = Callable[[JobContext], dict[str, Any] | None]
_HANDLERS: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of this kind."""

    def register(fn: JobHandler) -> JobHandler:
        _HANDLERS[kind] = fn
        return fn

    return register


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def enqueue(
    session: Session, kind: str, params: dict[str, Any], *, actor: str, delay_s: float = 0
) -> str:
    job_id = new_id()
    run_after = utcnow() + timedelta(seconds=delay_s) if delay_s else None
    session.add(JobRow(id=job_id, kind=kind, params=params, actor=actor, run_after=run_after))
    audit(session, actor=actor, action="job.enqueue", object_type="job", object_ids=[job_id])
    return job_id


def get_job(session: Session, job_id: str) -> JobRow:
    row = session.get(JobRow, job_id)
    if row is None:
        raise NotFound(f"no job {job_id}", object_id=job_id)
    return row


def list_jobs(session: Session, *, limit: int = 50, status: str | None = None) -> list[JobRow]:
    query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
    if status:
        query = query.where(JobRow.status == status)
    return list(session.execute(query).scalars())


def request_cancel(session: Session, job_id: str, *, actor: str) -> JobRow:
    row = get_job(session, job_id)
    if row.status == "queued":
        row.status, row.finished_at = "cancelled", utcnow()
    elif row.status == "running":
        row.cancel_requested = True
    audit(session, actor=actor, action="job.cancel", object_type="job", object_ids=[job_id])
    return row


class Worker:
    """Claims and runs queued jobs until stopped."""

    def __init__(
        self,
        db: Database,
        *,
        worker_id: str | None = None,
        kinds: list[str] | None = None,
        heartbeat_s: float = 5.0,
        stale_after_s: float = 30.0,
    ) -> None:
        self.db = db
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self.kinds = kinds
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s

    def recover_stale(self) -> int:
        """Requeue running jobs whose worker stopped sending heartbeats."""
        cutoff = utcnow() - timedelta(seconds=self.stale_after_s)
        with self.db.write() as s:
            result = s.execute(
                update(JobRow)
                .where(JobRow.status == "running", JobRow.heartbeat_at < cutoff)
                .values(status="queued", worker_id=None, message="resuming: its worker stopped")
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def claim(self, job_id: str | None = None) -> JobRow | None:
        now = utcnow()
        with self.db.write() as s:
            query = (
                select(JobRow)
                .where(JobRow.status == "queued")
                .where((JobRow.run_after.is_(None)) | (JobRow.run_after <= now))
                .order_by(JobRow.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            kinds = self.kinds if self.kinds is not None else registered_kinds()
            query = query.where(JobRow.kind.in_(kinds))
            if job_id is not None:
                query = query.where(JobRow.id == job_id)
            job = s.execute(query).scalar_one_or_none()
            if job is None:
                return None
            job.status, job.worker_id = "running", self.worker_id
            job.started_at = job.started_at or now
            job.heartbeat_at, job.attempts = now, job.attempts + 1
            return job

    def run_one(self, job_id: str | None = None) -> bool:
        """Claim one job (or that one job) and run it to an end; False when none was waiting."""
        self.recover_stale()
        job = self.claim(job_id)
        if job is None:
            return False
        if job.attempts > MAX_ATTEMPTS:
            self._finish(job.id, "failed", error=f"gave up after {MAX_ATTEMPTS} attempts")
            return True
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job.id, stop), daemon=True)
        beat.start()
        try:
            result = _HANDLERS[job.kind](JobContext(self.db, job))
            self._finish(job.id, "done", result=result or {})
        except JobCancelled:
            self._finish(job.id, "cancelled")
        except QianmoError as e:
            self._finish(job.id, "failed", error=str(e))
        except KeyboardInterrupt:
            self._requeue(job.id)
            raise
        except Exception as e:  # a handler bug must not kill the worker; it is recorded in full
            log.exception("job %s failed", job.id)
            self._finish(job.id, "failed", error="".join(traceback.format_exception(e))[-4000:])
        finally:
            stop.set()
            beat.join()
        return True

    def run(self, stop: threading.Event | None = None, *, poll_s: float = 1.0) -> None:
        stop = stop or threading.Event()
        while not stop.is_set():
            if not self.run_one():
                stop.wait(poll_s)

    def _heartbeat(self, job_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat_s):
            # A beat that cannot get the write lock in time (a busy SQLite file) is skipped, not
            # fatal: the next one comes well before the job counts as stale, and an exception
            # here would only kill this thread and leave the job looking abandoned.
            with contextlib.suppress(SQLAlchemyError), self.db.write() as s:
                s.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.worker_id == self.worker_id)
                    .values(heartbeat_at=utcnow())
                )

    def _finish(
        self, job_id: str, status: str, *, result: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        with self.db.write() as s:
            row = s.get(JobRow, job_id)
            assert row is not None
            row.status, row.finished_at = status, utcnow()
            row.result, row.error = result, error or None
            if status == "done" and row.total is not None:
                row.done = row.total
            audit(
                s,
                actor=row.actor or "system",
                action=f"job.{status}",
                object_type="job",
                object_ids=[job_id],
            )

    def _requeue(self, job_id: str) -> None:
        with self.db.write() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(status="queued", worker_id=None, message="interrupted; will resume")
            )


def run_job_inline(db: Database, job_id: str) -> JobRow:
    """Run one specific queued job in this process (the CLI's foreground path)."""
    with db.write() as s:
        get_job(s, job_id).run_after = None
    Worker(db).run_one(job_id)
    with db.read() as s:
        return get_job(s, job_id)


def run_queued(db: Database, kind: str, params: dict[str, Any], *, actor: str) -> dict[str, Any]:
    """Queue a job and run it in this process: its result, or its error raised as one line.

    Ctrl-C cancels the job; what it finished is stored and a rerun resumes from it."""
    with db.write() as s:
        job_id = enqueue(s, kind, params, actor=actor)
    try:
        job = run_job_inline(db, job_id)
    except KeyboardInterrupt:
        with db.write() as s:
            request_cancel(s, job_id, actor=actor)
        raise
    if job.status != "done" or job.result is None:
        error = (job.error or job.status).strip()
        if "Traceback" in error:  # a bug, not bad input: the last line and where to read more
            error = f"{error.splitlines()[-1]} (details: qianmo jobs show {job_id})"
        raise QianmoError(error)
    return dict(job.result)


P = TypeVar("P")


class Listener(Generic[P]):
    """Progress of a job run in this process, for whoever started it (the CLI's bar).

    The handler calls `notify(progress)`; the caller wraps `run_queued` in `listening(fn)`.
    A context variable, so it reaches the handler without a parameter and never leaks to
    jobs run by other threads (a worker's, the web's)."""

    def __init__(self, name: str) -> None:
        self._var: ContextVar[Callable[[P], None] | None] = ContextVar(name, default=None)

    @contextmanager
    def listening(self, fn: Callable[[P], None] | None) -> Iterator[None]:
        token = self._var.set(fn)
        try:
            yield
        finally:
            self._var.reset(token)

    def notify(self, progress: P) -> None:
        fn = self._var.get()
        if fn is not None:
            fn(progress)
