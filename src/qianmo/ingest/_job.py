"""Each import is a job: `run_ingest` queues it and runs it in this process (the CLI's
foreground path and `qianmo demo`); `qianmo worker` runs the same handler for queued imports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict
from pathlib import Path

from qianmo.errors import QianmoError
from qianmo.ingest._ingest import ingest_file
from qianmo.ingest._pipeline import (
    ImportSummary,
    IngestOptions,
    Progress,
    ProgressFn,
    StrictAbort,
)
from qianmo.store import Database, JobContext, enqueue, job_handler, request_cancel, run_job_inline

JOB_KIND = "ingest"
# Whoever runs a job in this process (the CLI) sees its progress here, between batches.
_listener: ContextVar[ProgressFn | None] = ContextVar("ingest_listener", default=None)


@contextmanager
def _listening(fn: ProgressFn | None) -> Iterator[None]:
    token = _listener.set(fn)
    try:
        yield
    finally:
        _listener.reset(token)


@job_handler(JOB_KIND)
def ingest_job(ctx: JobContext) -> dict[str, object]:
    params = ctx.params
    path = Path(params["path"])
    if not path.is_absolute():
        path = Path(params.get("cwd") or os.getcwd()) / path

    def progress(p: Progress) -> None:
        listener = _listener.get()
        if listener is not None:
            listener(p)
        if not p.in_transaction:
            ctx.progress(p.done, message=f"{p.summary.added} added, {p.summary.rejected} rejected")

    summary = ingest_file(
        ctx.db,
        path,
        IngestOptions(**params["options"]),
        actor=ctx.actor,
        job_id=ctx.job_id,
        label=params.get("label") or str(path),
        progress=progress,
    )
    return summary.to_dict()


def run_ingest(
    db: Database,
    path: Path,
    options: IngestOptions,
    *,
    actor: str,
    progress: ProgressFn | None = None,
) -> ImportSummary:
    """Queue one input's import as a job and run it here; raise its error if it fails."""
    params = {
        "path": str(path.absolute()),
        "label": str(path),
        "cwd": os.getcwd(),
        "options": asdict(options),
    }
    with db.write() as s:
        job_id = enqueue(s, JOB_KIND, params, actor=actor)
    try:
        with _listening(progress):
            job = run_job_inline(db, job_id)
    except KeyboardInterrupt:
        # The committed batches stand and the import resumes on the next run; this job is done.
        with db.write() as s:
            request_cancel(s, job_id, actor=actor)
        raise
    if job.status != "done" or job.result is None:
        error = (job.error or job.status).strip()
        if "Traceback" in error:  # a bug, not bad input: the last line and where to read more
            error = f"{error.splitlines()[-1]} (details: qianmo jobs show {job_id})"
        raise QianmoError(error)
    return ImportSummary(**job.result)


__all__ = ["StrictAbort", "ingest_job", "run_ingest"]
