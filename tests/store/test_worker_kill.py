"""A worker process killed with SIGKILL mid-job: another worker resumes from the checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from qianmo.store import Database, JobContext, Worker, enqueue, get_job, job_handler

ROOT = Path(__file__).resolve().parents[2]
DONE: list[int] = []

# The child process imports this module too, so both sides know the handler.
CHILD = """
import sys
from qianmo.store import Database, Worker
import tests.store.test_worker_kill  # registers the handler
db = Database(sys.argv[1], schema=sys.argv[2] or None)
Worker(db, kinds=["test.killable"], heartbeat_s=0.1).run_one()
"""


@job_handler("test.killable")
def _killable(ctx: JobContext) -> dict[str, int]:
    start = int(ctx.checkpoint.get("next", 0))
    for i in range(start, 6):
        DONE.append(i)
        ctx.progress(i + 1, 6, next=i + 1)
        if i == 2 and ctx.params.get("hang_after_3") and ctx.attempt == 1:
            time.sleep(600)  # the first worker is killed here
    return {"items": 6}


def test_killed_worker_process_job_is_resumed(db: Database) -> None:
    with db.write() as s:
        job_id = enqueue(s, "test.killable", {"hang_after_3": True}, actor="t")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db.url, db.schema or ""], env=env, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.read() as s:
                if get_job(s, job_id).checkpoint.get("next") == 3:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the child worker never reached its checkpoint")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    with db.read() as s:
        assert get_job(s, job_id).status == "running"  # nobody cleaned up after the kill
    time.sleep(0.6)
    DONE.clear()
    assert Worker(db, kinds=["test.killable"], stale_after_s=0.5).run_one()
    assert DONE == [3, 4, 5]  # resumed where the killed worker stopped
    with db.read() as s:
        job = get_job(s, job_id)
        assert job.status == "done" and job.attempts == 2 and job.result == {"items": 6}
