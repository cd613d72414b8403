"""Runs against a real local server: stored responses, cache, resume, circular evaluation,
re-asking, the timeliness split, contamination and rescoring without model calls."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from qianmo.evaluate import RunConfig, leaderboard, rescore, run_suite
from qianmo.llm import BatchStats
from qianmo.store import Database, EvalResponseRow, EvalRunRow
from tests.helpers.evaluate import CHOICES, add, backend, mcq, qa, suite
from tests.helpers.openai_server import OpenAIServer, Reply, last_user_text

TEXT_TO_LABEL = {v: k for k, v in CHOICES.items()}


def correct_text_reply(body: dict[str, Any]) -> str:
    """A model that knows the answer is 'Execution Prevention' whatever its letter."""
    prompt = last_user_text(body)
    label = re.search(r"^([A-D])\. Execution Prevention$", prompt, re.M)
    return f"The answer is {label.group(1)}." if label else "?"


def test_run_stores_everything_and_a_rerun_sends_no_request(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(6)] + [mcq("A", n=9)])
    info = suite(db)
    with OpenAIServer(correct_text_reply) as server:
        first = run_suite(db, info, backend(db, server.url), concurrency=4)
        assert len(server.requests) == 7
        assert first["accuracy"] == pytest.approx(6 / 7, abs=1e-4) and first["n"] == 7
        assert first["requests"]["done"] == 7 and first["requests"]["completion_tokens"] > 0
        again = run_suite(db, info, backend(db, server.url), concurrency=4)
        assert len(server.requests) == 7  # answered from the response cache
        assert again["run"] != first["run"] and again["accuracy"] == first["accuracy"]
        assert again["requests"]["cached"] == 7
    with db.read() as s:
        rows = list(
            s.execute(
                select(EvalResponseRow).where(EvalResponseRow.run_id == first["run"])
            ).scalars()
        )
    assert len(rows) == 7
    row = next(r for r in rows if r.outcome == "correct")
    assert row.prompt[-1]["role"] == "user" and row.response == "The answer is B."
    assert row.extracted == {"value": ["B"], "method": "marker"} and row.score == 1
    assert row.latency_s > 0 and row.prompt_tokens > 0


def test_interrupted_run_resumes_where_it_stopped(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(12)])
    info = suite(db)

    def stop_after_five(stats: BatchStats) -> None:
        if stats.done >= 5:
            raise KeyboardInterrupt

    with OpenAIServer(correct_text_reply) as server:
        with pytest.raises(KeyboardInterrupt):
            run_suite(
                db,
                info,
                backend(db, server.url, cache=False),
                concurrency=1,
                progress=stop_after_five,
            )
        asked = len(server.requests)
        with db.read() as s:
            run = s.execute(select(EvalRunRow)).scalar_one()
            kept = len(list(s.execute(select(EvalResponseRow)).scalars()))
        assert run.status == "running" and kept == asked >= 5
        summary = run_suite(db, info, backend(db, server.url, cache=False), concurrency=3)
    assert summary["run"] == run.id and summary["n"] == 12 and summary["accuracy"] == 1
    assert len(server.requests) == 12  # nothing asked twice
    assert summary["requests"]["skipped"] == asked


def test_failed_items_are_errors_and_a_rerun_retries_only_them(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(6)])
    info = suite(db)
    broken = {"on": True}

    def flaky(body: dict[str, Any]) -> Reply | str:
        if broken["on"] and "Question 3:" in last_user_text(body):
            return Reply("overloaded", status=503)
        return correct_text_reply(body)

    with OpenAIServer(flaky) as server:
        first = run_suite(db, info, backend(db, server.url, max_retries=0), concurrency=2)
        assert first["errors"] == 1 and first["n"] == 5
        broken["on"] = False
        before = len(server.requests)
        second = run_suite(db, info, backend(db, server.url, max_retries=0), concurrency=2)
        assert second["run"] == first["run"] and second["errors"] == 0 and second["n"] == 6
        assert len(server.requests) == before + 1


def test_circular_evaluation_counts_an_item_only_if_every_rotation_is_right(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(4)])
    info = suite(db)
    with OpenAIServer(lambda body: "ANSWER: B") as server:  # always the same letter
        plain = run_suite(db, info, backend(db, server.url))
        circular = run_suite(db, info, backend(db, server.url), RunConfig(circular=True))
    assert plain["accuracy"] == 1 and circular["accuracy"] == 0
    with OpenAIServer(correct_text_reply) as server:  # follows the text through rotations
        knows = run_suite(db, info, backend(db, server.url, "knows"), RunConfig(circular=True))
        assert len(server.requests) == 16
    assert knows["accuracy"] == 1 and knows["n"] == 4


def test_unreadable_replies_are_invalid_and_can_be_re_asked(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(3)])
    info = suite(db)

    def vague(body: dict[str, Any]) -> str:
        last = body["messages"][-1]["content"]
        return "ANSWER: B" if "did not follow the format" in last else "Hard to say."

    with OpenAIServer(vague) as server:
        plain = run_suite(db, info, backend(db, server.url))
        assert plain["invalid"] == 3 and plain["accuracy"] == 0 and plain["wrong"] == 0
        again = run_suite(db, info, backend(db, server.url), RunConfig(reask=True))
    assert again["invalid"] == 0 and again["accuracy"] == 1


def test_timeliness_split_breakdowns_and_contamination(db: Database) -> None:
    old = datetime(2022, 5, 1, tzinfo=UTC)
    new = datetime(2024, 9, 1, tzinfo=UTC)
    flag = {"flags": {"contaminated": {"found": "ngram overlap"}}}
    add(
        db,
        [
            mcq("B", n=1, published_at=old, domain="vuln"),
            mcq("B", n=2, published_at=old, domain="vuln", lang="zh"),
            mcq("A", n=3, published_at=new, domain="threat.intel"),
            mcq("A", n=4, published_at=new, domain="threat.intel", quality=flag),
            mcq("B", n=5),
        ],
    )
    info = suite(db)
    with OpenAIServer(lambda body: "ANSWER: B") as server:
        summary = run_suite(db, info, backend(db, server.url), cutoff="2023-04-01")
    t = summary["timeliness"]
    assert t["cutoff"] == "2023-04-01"
    assert (t["before"]["n"], t["before"]["accuracy"]) == (2, 1.0)
    assert (t["after"]["n"], t["after"]["accuracy"]) == (2, 0.0)
    assert t["unknown"]["n"] == 1
    assert summary["by_domain"]["vuln"]["accuracy"] == 1 and summary["by_lang"]["zh"]["n"] == 1
    assert summary["contaminated"]["n"] == 1 and not summary["contaminated"]["excluded"]
    lo, hi = summary["ci95"]
    assert 0 <= lo <= summary["accuracy"] <= hi <= 1


def test_rescore_changes_scores_without_calling_the_model(db: Database) -> None:
    add(db, [mcq(["A", "C"], n=i) for i in range(4)] + [qa("SQL injection")])
    info = suite(db)

    def reply(body: dict[str, Any]) -> str:
        return (
            "ANSWER: A" if "One or more" in last_user_text(body) else "ANSWER: blind SQL injection"
        )

    with OpenAIServer(reply) as server:
        summary = run_suite(db, info, backend(db, server.url))
        asked = len(server.requests)
        assert summary["by_kind"]["mcq"]["accuracy"] == 0
        assert summary["by_kind"]["qa"]["accuracy"] == pytest.approx(0.8)  # token F1
        partial = rescore(db, summary["run"], "jaccard", actor="test")
        assert len(server.requests) == asked
    assert partial["by_kind"]["mcq"]["accuracy"] == 0.5
    with db.read() as s:
        run = s.get(EvalRunRow, summary["run"])
        assert run is not None and run.config["scorer"] == "jaccard"


def test_leaderboard_compares_models_on_one_suite_version(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(4)])
    info = suite(db)
    with OpenAIServer(correct_text_reply) as good, OpenAIServer(lambda b: "ANSWER: A") as bad:
        run_suite(db, info, backend(db, good.url, "good"))
        run_suite(db, info, backend(db, bad.url, "bad"))
    rows = leaderboard(db, "s")
    assert [(r["model"], r["accuracy"]) for r in rows] == [("good", 1.0), ("bad", 0.0)]
    assert all(r["version"] == info.version for r in rows)


def test_qa_ids_and_cvss_items_are_scored(db: Database) -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    add(db, [qa("CWE-79", "ids"), qa(vector, "cvss", question="Vector of CVE-2024-1?")])
    info = suite(db)

    def reply(body: dict[str, Any]) -> str:
        text = last_user_text(body)
        return (
            "ANSWER: CWE-79"
            if "identifiers" in text
            else "ANSWER: CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"
        )

    with OpenAIServer(reply) as server:
        summary = run_suite(db, info, backend(db, server.url))
    assert summary["by_answer_type"]["ids"]["accuracy"] == 1
    assert summary["by_answer_type"]["cvss"]["cvss_mad"] == pytest.approx(3.3)


def test_k_shot_examples_come_from_outside_the_suite(db: Database) -> None:
    add(db, [mcq("B", n=i) for i in range(6)])
    info = suite(db, "s", "source=evaltest", limit=3)
    with OpenAIServer(correct_text_reply) as server:
        run_suite(db, info, backend(db, server.url), RunConfig(shots=2))
    with db.read() as s:
        rows = list(s.execute(select(EvalResponseRow)).scalars())
    asked = {r.prompt[-1]["content"] for r in rows}
    for r in rows:
        assert [m["role"] for m in r.prompt] == ["user", "assistant", "user", "assistant", "user"]
        assert not {r.prompt[0]["content"], r.prompt[2]["content"]} & asked
