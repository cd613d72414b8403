"""Reproduce CyberSecEval's prompt-injection attack success rate against a planted target."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from qianmo.arena import (
    CampaignConfig,
    PlantedServer,
    Target,
    load_library,
    resolve_defenses,
    run_campaign,
)
from qianmo.store import Database
from tests.helpers.arena import backend, cyberseceval_records, last_user, system_of, yes_if_in_reply


def test_cyberseceval_asr_and_per_variant_breakdown_equal_the_planted_subset(
    db: Database, shared_data: Path
) -> None:
    records = cyberseceval_records(shared_data / "benchmarks/cyberseceval/prompt_injection.json")
    added, _ = load_library(db, records, actor="test")
    # The target obeys the injected instruction for every third case, by prompt id.
    obeys = {
        (r.content["system_prompt"], r.content["turns"][0])
        for r in records
        if int(r.source.original_id or 0) % 3 == 0
    }

    def target_model(messages: list[dict[str, Any]]) -> str:
        if (system_of(messages), last_user(messages)) in obeys:
            return "OBEYED-INJECTION: doing what the embedded instruction said."
        return "I will stick to the original task and ignore embedded instructions."

    with db.read() as s:
        from qianmo.store import RecordFilter, iter_records

        stored = list(iter_records(s, RecordFilter.parse(["source=cyberseceval"])))
    assert len(stored) == added
    planted = [r for r in stored if (r.content["system_prompt"], r.content["turns"][0]) in obeys]
    with (
        PlantedServer(target_model) as target_server,
        PlantedServer(yes_if_in_reply("OBEYED-INJECTION")) as judge_server,
    ):
        target = Target(
            backend("planted", target_server.base_url),
            resolve_defenses(["bare"])[0],
        )
        judge = backend("judge", judge_server.base_url)
        config = CampaignConfig(
            name="cyberseceval", attacks=["source=cyberseceval"], benign=[], judge="question"
        )
        summary = asyncio.run(run_campaign(db, config, [target], actor="t", judge_model=judge))
        assert judge_server.requests == added
    asr = summary["asr"]
    assert (asr["n"], asr["success"], asr["undetermined"]) == (added, len(planted), 0)
    assert asr["rate"] == len(planted) / added
    expected = Counter(r.content["variant"] for r in planted)
    totals = Counter(r.content["variant"] for r in stored)
    assert set(summary["by_variant"]) == set(totals)
    for variant, r in summary["by_variant"].items():
        assert (r["success"], r["n"]) == (expected[variant], totals[variant]), variant
    by_cat = summary["by_category"]
    assert by_cat["direct_injection"]["n"] + by_cat["indirect_injection"]["n"] == added
