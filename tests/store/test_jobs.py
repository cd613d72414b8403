"""Jobs: safe claiming by concurrent workers, cancellation, and resuming a dead worker's job."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from qianmo.errors import QianmoError
from qianmo.store import (
    Database,
    JobContext,
    JobRow,
    Listener,
    Worker,
    enqueue,
    get_job,
    job_handler,
    request_cancel,
    run_queued,
)

RUNS: list[str] = []
RUNS_LOCK = threading.Lock()


@job_handler("test.record_run")
def _record_run(ctx: JobContext) -> dict[str, str]:
    time.sleep(0.01)
    with RUNS_LOCK:
        RUNS.append(ctx.job_id)
    return {"ok": "yes"}


class Killed(BaseException):
    """Stands in for SIGKILL: nothing in the worker catches it, so no cleanup runs."""


PROCESSED: list[int] = []


@job_handler("test.resumable")
def _resumable(ctx: JobContext) -> dict[str, int]:
    start = int(ctx.checkpoint.get("next", 0))
    for i in range(start, 10):
        PROCESSED.append(i)
        ctx.progress(i + 1, 10, next=i + 1)
        if i == 4 and ctx.attempt == 1:
            raise Killed
    return {"processed": 10}


@job_handler("test.slow")
def _slow(ctx: JobContext) -> None:
    for i in range(200):
        ctx.progress(i, 200)
        time.sleep(0.01)


def test_two_workers_never_run_the_same_job(db: Database) -> None:
    RUNS.clear()
    with db.write() as s:
        ids = [enqueue(s, "test.record_run", {}, actor="t") for _ in range(30)]

    def drain() -> None:
        w = Worker(db, kinds=["test.record_run"])
        while w.run_one():
            pass

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(RUNS) == Counter(ids)  # each exactly once
    with db.read() as s:
        assert {get_job(s, i).status for i in ids} == {"done"}


def test_job_of_a_killed_worker_is_resumed(db: Database) -> None:
    PROCESSED.clear()
    with db.write() as s:
        job_id = enqueue(s, "test.resumable", {}, actor="t")
    dying = Worker(db, kinds=["test.resumable"], heartbeat_s=0.05, stale_after_s=0.3)
    with pytest.raises(Killed):
        dying.run_one()
    with db.read() as s:
        assert get_job(s, job_id).status == "running"  # nobody marked it: the worker "died"
    time.sleep(0.5)
    rescuer = Worker(db, kinds=["test.resumable"], stale_after_s=0.3)
    assert rescuer.run_one()
    assert list(range(10)) == PROCESSED  # resumed at its checkpoint, nothing done twice
    with db.read() as s:
        job = get_job(s, job_id)
        assert job.status == "done" and job.attempts == 2 and job.result == {"processed": 10}


def test_cancel_a_running_job(db: Database) -> None:
    with db.write() as s:
        job_id = enqueue(s, "test.slow", {}, actor="t")
    worker = Worker(db, kinds=["test.slow"])
    thread = threading.Thread(target=worker.run_one)
    thread.start()
    time.sleep(0.2)
    with db.write() as s:
        request_cancel(s, job_id, actor="t")
    thread.join(timeout=10)
    with db.read() as s:
        assert get_job(s, job_id).status == "cancelled"


def test_failed_handler_records_the_error(db: Database) -> None:
    @job_handler("test.broken")
    def _broken(ctx: JobContext) -> None:
        raise ValueError("boom")

    with db.write() as s:
        job_id = enqueue(s, "test.broken", {}, actor="t")
    Worker(db, kinds=["test.broken"]).run_one()
    with db.read() as s:
        job = get_job(s, job_id)
        assert job.status == "failed" and "ValueError: boom" in (job.error or "")


@job_handler("test.reports")
def _reports(ctx: JobContext) -> dict[str, int]:
    for i in range(3):
        REPORTS.notify(i)
    if ctx.params.get("fail") == "user":
        raise QianmoError("the file has no rows", field="path")
    if ctx.params.get("fail") == "bug":
        raise KeyError("oops")
    if ctx.params.get("fail") == "interrupt":
        raise KeyboardInterrupt
    return {"n": 3}


REPORTS: Listener[int] = Listener("test_reports")


def test_run_queued_returns_the_result_and_feeds_the_listener(db: Database) -> None:
    seen: list[int] = []
    with REPORTS.listening(seen.append):
        assert run_queued(db, "test.reports", {}, actor="t") == {"n": 3}
    assert seen == [0, 1, 2]
    run_queued(db, "test.reports", {}, actor="t")  # nobody listening: nothing to call
    assert seen == [0, 1, 2]


def test_run_queued_raises_user_errors_and_bugs_as_one_line(db: Database) -> None:
    with pytest.raises(QianmoError, match=r"^path: the file has no rows$"):
        run_queued(db, "test.reports", {"fail": "user"}, actor="t")
    with pytest.raises(QianmoError, match=r"^KeyError: 'oops' \(details: qianmo jobs show \w+\)$"):
        run_queued(db, "test.reports", {"fail": "bug"}, actor="t")


def test_ctrl_c_during_run_queued_cancels_the_job(db: Database) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_queued(db, "test.reports", {"fail": "interrupt"}, actor="t")
    with db.read() as s:
        job = s.execute(select(JobRow).where(JobRow.kind == "test.reports")).scalar_one()
    assert job.status == "cancelled"
