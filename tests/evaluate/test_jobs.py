"""Evaluation runs as store jobs: a worker runs a queued run; a cancelled one resumes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from qianmo.errors import QianmoError
from qianmo.evaluate import EVAL_JOB, RunConfig, eval_params, run_eval
from qianmo.llm import BatchStats, model_config
from qianmo.store import (
    Database,
    EvalResponseRow,
    Worker,
    enqueue,
    get_job,
    list_jobs,
    request_cancel,
)
from tests.evaluate.test_runs import correct_text_reply
from tests.helpers.evaluate import add, mcq, suite
from tests.helpers.openai_server import OpenAIServer


def test_a_worker_runs_a_queued_evaluation(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(5)])
    info = suite(db)
    with OpenAIServer(correct_text_reply) as server:
        params = eval_params(info, model_config("m", base_url=server.url), RunConfig())
        with db.write() as s:
            job_id = enqueue(s, EVAL_JOB, params, actor="test")
        assert Worker(db).run_one()
        assert len(server.requests) == 5
    with db.read() as s:
        job = get_job(s, job_id)
        assert job.status == "done" and (job.done, job.total) == (5, 5)
        assert job.result is not None and job.result["accuracy"] == 1 and job.result["n"] == 5


def test_a_cancelled_evaluation_job_resumes_in_the_next_without_asking_twice(
    db: Database,
) -> None:
    add(db, [mcq("B", n=i) for i in range(16)])
    info = suite(db)
    seen: list[BatchStats] = []

    def cancel_at_the_fourth_request(body: dict[str, Any]) -> str:
        if len(server.requests) == 4:  # someone cancels the running job (web, `jobs cancel`)
            with db.read() as s:
                job_id = list_jobs(s, status="running")[0].id
            with db.write() as s:
                request_cancel(s, job_id, actor="test")
        return correct_text_reply(body)

    with OpenAIServer(cancel_at_the_fourth_request, latency=0.2) as server:
        cfg = model_config("m", base_url=server.url)
        params = eval_params(info, cfg, RunConfig(), concurrency=2, cache=False)
        with pytest.raises(QianmoError, match=r"^cancelled$"):  # as the CLI shows it
            run_eval(db, params, actor="test", progress=seen.append)
        asked = len(server.requests)
        with db.read() as s:
            kept = s.execute(select(func.count()).select_from(EvalResponseRow)).scalar_one()
        summary = run_eval(db, params, actor="test", progress=seen.append)
    # What finished is kept and not asked again (the cache is off); a request in flight at
    # the cancel had no answer stored, so it is asked again.
    assert kept >= 2 and asked - kept <= 2
    assert len(server.requests) - asked == 16 - kept
    assert summary["n"] == 16 and summary["accuracy"] == 1
    assert summary["requests"]["skipped"] == kept
    assert seen and seen[-1].done + seen[-1].skipped == 16  # the listener saw the progress
    with db.read() as s:
        assert [j.status for j in list_jobs(s)] == ["done", "cancelled"]
