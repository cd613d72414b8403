"""Model batches as store jobs: evaluation runs and arena campaigns are queued like any long
work, run by `qianmo worker` (or the web's in-process worker) or inline by the CLI, and report
progress both to their job row and to whoever watches in this process (the CLI's bar)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from qianmo.llm._batch import BatchStats
from qianmo.store import Database, JobCancelled, JobContext, Listener, run_queued

StatsFn = Callable[[BatchStats], None]
# The CLI runs the job in its own process and sees its progress here, without polling the row.
_listener: Listener[BatchStats] = Listener("batch_job_listener")


class JobProgress:
    """A batch runner `progress` callback for a job handler; use it as a context manager.

    The job row is written from a thread of its own once a second: a write is a transaction
    (35 ms each on a loaded machine, measured), and on the event loop it would stall every
    request in flight. That write is also where a cancel requested by someone else is seen;
    the next callback then raises `JobCancelled` into the batch, which keeps what finished.
    """

    def __init__(self, ctx: JobContext, *, every_s: float = 1.0) -> None:
        self.ctx, self.every_s = ctx, every_s
        self._latest: tuple[int, int, str] | None = None
        self._cancelled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-progress", daemon=True)

    def __enter__(self) -> JobProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._write()  # the final count; a cancel that arrives after the end changes nothing

    def __call__(self, stats: BatchStats) -> None:
        _listener.notify(stats)
        message = f"{stats.done} asked, {stats.skipped} resumed, {stats.errors} errors"
        self._latest = (stats.done + stats.skipped, stats.total, message)
        if self._cancelled:
            raise JobCancelled(self.ctx.job_id)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._write()

    def _write(self) -> None:
        latest = self._latest
        if latest is None:
            return
        try:
            self.ctx.progress(latest[0], latest[1], message=latest[2])
        except JobCancelled:
            self._cancelled = True


def run_inline(
    db: Database,
    kind: str,
    params: dict[str, Any],
    *,
    actor: str,
    progress: StatsFn | None = None,
) -> dict[str, Any]:
    """Queue a job and run it in this process; its result, or its error raised as one line."""
    with _listener.listening(progress):
        return run_queued(db, kind, params, actor=actor)
