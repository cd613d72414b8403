"""Each evaluation run is a job: `run_eval` queues it and runs it in this process (the CLI's
foreground path); `qianmo worker` and the web's worker run the same handler for queued runs.
A run interrupted in either place resumes from its stored responses when asked again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qianmo.evaluate._runs import RunConfig, run_suite
from qianmo.evaluate._suites import SuiteInfo, get_suite
from qianmo.llm import (
    BatchStats,
    JobProgress,
    ModelConfig,
    OpenAIBackend,
    ResponseCache,
    run_inline,
)
from qianmo.store import Database, JobContext, job_handler

EVAL_JOB = "eval.run"


def eval_params(
    suite: SuiteInfo,
    model: ModelConfig,
    config: RunConfig,
    *,
    concurrency: int = 16,
    cache: bool = True,
    cutoff: str | None = None,
) -> dict[str, Any]:
    """A job's parameters: everything the handler needs, as JSON (the key stays a variable name)."""
    return {
        "suite": suite.id,
        "model": model.model_dump(mode="json"),
        "config": config.model_dump(mode="json"),
        "concurrency": concurrency,
        "cache": cache,
        "cutoff": cutoff,
    }


@job_handler(EVAL_JOB)
def eval_job(ctx: JobContext) -> dict[str, Any]:
    p = ctx.params
    model = ModelConfig.model_validate(p["model"])
    backend = OpenAIBackend(model, cache=ResponseCache(ctx.db) if p.get("cache", True) else None)
    with JobProgress(ctx) as progress:
        return run_suite(
            ctx.db,
            get_suite(ctx.db, p["suite"]),
            backend,
            RunConfig.model_validate(p["config"]),
            concurrency=int(p.get("concurrency") or 16),
            progress=progress,
            actor=ctx.actor,
            cutoff=p.get("cutoff"),
        )


def run_eval(
    db: Database,
    params: dict[str, Any],
    *,
    actor: str,
    progress: Callable[[BatchStats], None] | None = None,
) -> dict[str, Any]:
    """Queue the run as a job and run it here; its summary, or its error as one line."""
    return run_inline(db, EVAL_JOB, params, actor=actor, progress=progress)
