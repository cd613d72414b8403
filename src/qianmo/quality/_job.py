"""The `quality` job: a run under the foundation's job runner, resumable after a crash.

The run id is kept in the job's checkpoint, so a resumed job continues the same run; its
steps are idempotent, so what the crashed attempt already saved is not changed again.
"""

from __future__ import annotations

from typing import Any

from qianmo.quality._run import RunOptions, run_quality
from qianmo.standard import new_id
from qianmo.store import JobContext, job_handler


@job_handler("quality")
def quality_job(ctx: JobContext) -> dict[str, Any]:
    run_id = ctx.checkpoint.get("run_id")
    if run_id is None:
        run_id = new_id()
        ctx.progress(0, None, "starting", run_id=run_id)
    options = RunOptions.from_json(ctx.params)

    def progress(done: int, total: int | None, message: str) -> None:
        ctx.progress(done, total, message)

    return run_quality(
        ctx.db, options, actor=ctx.actor, run_id=run_id, job_id=ctx.job_id, progress=progress
    )
