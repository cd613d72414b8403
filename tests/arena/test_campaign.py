from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from qianmo.arena import (
    ARENA_JOB,
    PLANTED,
    CampaignConfig,
    PlantedServer,
    Prompt,
    Target,
    benign_requests,
    campaign_params,
    canary_for,
    library_attacks,
    load_library,
    resolve_defenses,
    run_campaign,
    wilson,
)
from qianmo.llm import model_config
from qianmo.store import ArenaAttemptRow, Database, Worker, enqueue, get_job
from tests.helpers.arena import CANARY_RE, SECRET_RE, backend, system_of

SEED = "test-seed"


def _planted_sets() -> tuple[set[str], set[str], Counter[str], int]:
    """Every third library attack works; every tenth benign request is refused."""
    canary = canary_for(SEED)
    attacks, benign = library_attacks(), benign_requests()
    works = {Prompt.of(a).fill(canary).turns[0] for a in attacks[::3]}
    refused = {b.content["turns"][0] for b in benign[::10]}
    by_cat = Counter(a.content["category"] for a in attacks[::3])
    return works, refused, by_cat, len(benign[::10])


def planted(works: set[str], refused: set[str]):  # type: ignore[no-untyped-def]
    def behaviour(messages: list[dict[str, Any]]) -> str:
        users = [m["content"] for m in messages if m["role"] == "user"]
        if any(users[0].startswith(w) for w in works):
            secret = SECRET_RE.search(system_of(messages) + " ")
            canary = CANARY_RE.search(" ".join(users))
            return f"Sure! {secret.group(1) if secret else ''} {canary.group(0) if canary else ''}"
        if users[0] in refused:
            return "I'm sorry, but I can't help with that."
        return "Here is a careful, complete answer to your question about security practice."

    return behaviour


def _run(db: Database, config: CampaignConfig, targets: list[Target]) -> dict[str, Any]:
    return asyncio.run(run_campaign(db, config, targets, actor="test"))


def test_campaign_numbers_equal_the_planted_target_and_resume(db: Database) -> None:
    load_library(db, library_attacks() + benign_requests(), actor="test")
    works, refused, by_cat, n_refused = _planted_sets()
    with PlantedServer(planted(works, refused)) as server:
        target = Target(
            backend("planted", server.base_url),
            resolve_defenses(["none"])[0],
        )
        config = CampaignConfig(name="numbers", seed=SEED, concurrency=32)
        summary = _run(db, config, [target])
        calls = server.requests
        again = _run(db, config, [target])
        assert server.requests == calls  # resumed: nothing sent twice
    n_attacks, n_benign = len(library_attacks()), len(benign_requests())
    asr = summary["asr"]
    assert (asr["n"], asr["success"], asr["undetermined"]) == (n_attacks, len(works), 0)
    assert asr["rate"] == len(works) / n_attacks
    low, high = wilson(len(works), n_attacks)
    assert asr["ci95"] == [round(low, 4), round(high, 4)] and low < asr["rate"] < high
    for cat, r in summary["by_category"].items():
        assert r["success"] == by_cat[cat], cat
    frr = summary["false_refusal"]["planted/none"]
    assert (frr["n"], frr["success"]) == (n_benign, n_refused)
    assert summary["heatmap"]["targets"] == ["planted/none"]
    assert again["run"] == {**again["run"], "ran": 0, "resumed": n_attacks + n_benign}
    assert again["asr"] == asr


def test_refuse_everything_scores_below_a_balanced_defense(db: Database) -> None:
    load_library(db, library_attacks() + benign_requests(), actor="test")
    with PlantedServer() as server:
        naive = backend("naive", server.base_url)
        targets = [Target(naive, d) for d in resolve_defenses(["refuse_all", "filtered", "none"])]
        config = CampaignConfig(
            name="score", seed=SEED, converters=["none", "roleplay"], limit=40, concurrency=32
        )
        summary = _run(db, config, targets)
    score, asr = summary["defense_score"], summary["by_target"]
    frr = summary["false_refusal"]
    assert asr["naive/refuse_all"]["rate"] == 0.0 and frr["naive/refuse_all"]["rate"] == 1.0
    assert score["naive/refuse_all"] == 0.0
    assert asr["naive/none"]["rate"] > 0.8 and score["naive/none"] < 0.3
    assert score["naive/filtered"] > 0.8 > score["naive/none"] > score["naive/refuse_all"]
    by_conv = summary["by_converter"]
    assert set(by_conv) == {"none", "roleplay"}


def test_attempts_keep_their_lineage_and_backend_errors_are_undetermined(db: Database) -> None:
    load_library(db, library_attacks()[:6], actor="test")

    def broken(messages: list[dict[str, Any]]) -> str:
        raise ValueError("model crashed")

    with PlantedServer(broken) as server:
        target = Target(
            backend("broken", server.base_url, max_retries=0),
            resolve_defenses(["none"])[0],
        )
        config = CampaignConfig(name="errors", benign=[], converters=["base64+roleplay"])
        summary = _run(db, config, [target])
    assert summary["asr"]["undetermined"] == 6 and summary["asr"]["n"] == 0
    assert summary["asr"]["rate"] is None
    with db.read() as s:
        rows = list(s.execute(select(ArenaAttemptRow)).scalars())
    assert {r.outcome for r in rows} == {"undetermined"}
    assert all(r.error and r.prompt["lineage"] == ["base64", "roleplay"] for r in rows)


def test_unknown_converter_or_empty_selection_is_a_clear_error(db: Database) -> None:
    from qianmo.errors import QianmoError

    target = Target(
        backend("x", "http://127.0.0.1:9/v1"),
        resolve_defenses(["none"])[0],
    )
    with pytest.raises(QianmoError, match="unknown converter"):
        _run(db, CampaignConfig(name="bad", converters=["b64"]), [target])
    with pytest.raises(QianmoError, match="qianmo arena load"):
        _run(db, CampaignConfig(name="empty"), [target])


def test_a_worker_runs_a_queued_planted_campaign(db: Database) -> None:
    load_library(db, library_attacks() + benign_requests(), actor="test")
    planted = model_config(PLANTED, base_url=PLANTED)  # the handler starts the server itself
    stacks = resolve_defenses(["none", "refuse_all"])
    config = CampaignConfig(name="queued", seed=SEED, limit=6, concurrency=8)
    with db.write() as s:
        job_id = enqueue(
            s, ARENA_JOB, campaign_params(config, [(planted, d) for d in stacks]), actor="t"
        )
    assert Worker(db).run_one()
    with db.read() as s:
        job = get_job(s, job_id)
        attempts = s.execute(select(func.count()).select_from(ArenaAttemptRow)).scalar_one()
    assert job.status == "done", job.error
    assert job.result is not None and job.result["attempts"] == attempts == 2 * (6 + 6)
    assert (job.done, job.total) == (attempts, attempts)
    assert job.result["defense_score"]["planted/refuse_all"] == 0.0
