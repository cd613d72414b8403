"""Each campaign run is a job: `run_campaign_job` queues it and runs it in this process (the
CLI's foreground path); `qianmo worker` and the web's worker run the same handler for queued
campaigns. Attempts are keyed, so an interrupted campaign resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict
from typing import Any

import orjson

from qianmo.arena._campaign import CampaignConfig, run_campaign
from qianmo.arena._defenses import DefenseStack
from qianmo.arena._planted import PlantedServer
from qianmo.arena._target import Target
from qianmo.llm import (
    BatchStats,
    JobProgress,
    ModelConfig,
    OpenAIBackend,
    ResponseCache,
    run_inline,
    run_sync,
)
from qianmo.store import Database, JobContext, job_handler

ARENA_JOB = "arena.campaign"
# A model whose base URL is this is served by a planted server the handler starts itself,
# so a worker can run a `--planted` campaign as well as the CLI.
PLANTED = "planted"


def campaign_params(
    config: CampaignConfig,
    targets: list[tuple[ModelConfig, DefenseStack]],
    *,
    judge: ModelConfig | None = None,
    cache: bool = True,
) -> dict[str, Any]:
    """A job's parameters, as JSON: the campaign, each target's model and defense stack."""
    return {
        "config": asdict(config),
        "targets": [
            {"model": m.model_dump(mode="json"), "defense": d.model_dump(mode="json")}
            for m, d in targets
        ],
        "judge": judge.model_dump(mode="json") if judge else None,
        "cache": cache,
    }


class _Backends:
    """One backend per distinct model, shared by the targets that use it (one connection pool)."""

    def __init__(self, cache: ResponseCache | None, planted_url: Callable[[], str]) -> None:
        self.cache, self.planted_url = cache, planted_url
        self.made: dict[bytes, OpenAIBackend] = {}

    def __call__(self, spec: dict[str, Any]) -> OpenAIBackend:
        if spec.get("base_url") == PLANTED:
            spec = {**spec, "base_url": self.planted_url()}
        key = orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)
        if key not in self.made:
            self.made[key] = OpenAIBackend(ModelConfig.model_validate(spec), cache=self.cache)
        return self.made[key]


@job_handler(ARENA_JOB)
def campaign_job(ctx: JobContext) -> dict[str, Any]:
    p = ctx.params
    config = CampaignConfig(**p["config"])
    with ExitStack() as stack:
        server: list[PlantedServer] = []

        def planted_url() -> str:
            if not server:
                server.append(stack.enter_context(PlantedServer()))
            return server[0].base_url

        backend = _Backends(ResponseCache(ctx.db) if p.get("cache") else None, planted_url)
        targets = [
            Target(backend(t["model"]), DefenseStack.model_validate(t["defense"]))
            for t in p["targets"]
        ]
        judge = backend(p["judge"]) if p.get("judge") else None
        progress = stack.enter_context(JobProgress(ctx))
        return run_sync(
            run_campaign(
                ctx.db,
                config,
                targets,
                actor=ctx.actor,
                judge_model=judge,
                progress=progress,
            )
        )


def run_campaign_job(
    db: Database,
    params: dict[str, Any],
    *,
    actor: str,
    progress: Callable[[BatchStats], None] | None = None,
) -> dict[str, Any]:
    """Queue the campaign as a job and run it here; its summary, or its error as one line."""
    return run_inline(db, ARENA_JOB, params, actor=actor, progress=progress)
