"""Each import is a job: `run_ingest` queues it and runs it in this process (the CLI's
foreground path and `qianmo demo`); `qianmo worker` runs the same handler for queued imports."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

from qianmo.ingest._ingest import ingest_file
from qianmo.ingest._pipeline import (
    ImportSummary,
    IngestOptions,
    Progress,
    ProgressFn,
    StrictAbort,
)
from qianmo.store import Database, JobContext, Listener, job_handler, run_queued

JOB_KIND = "ingest"
# Whoever runs a job in this process (the CLI) sees its progress here, between batches.
_listener: Listener[Progress] = Listener("ingest_listener")


@job_handler(JOB_KIND)
def ingest_job(ctx: JobContext) -> dict[str, object]:
    params = ctx.params
    path = Path(params["path"])
    if not path.is_absolute():
        path = Path(params.get("cwd") or os.getcwd()) / path

    def progress(p: Progress) -> None:
        _listener.notify(p)
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
    # Ctrl-C: the committed batches stand and the import resumes on the next run.
    with _listener.listening(progress):
        return ImportSummary(**run_queued(db, JOB_KIND, params, actor=actor))


__all__ = ["StrictAbort", "ingest_job", "run_ingest"]
