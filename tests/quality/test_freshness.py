"""The `stale` flag: facts older than the age set for their domain or kind, or derived from a
withdrawn source record; flagged, never dropped, and cleared when the record is refreshed."""

from __future__ import annotations

from datetime import date

from qianmo.quality import Freshness, RunOptions, parse_pipeline, run_quality
from qianmo.quality._freshness import FreshnessOptions
from qianmo.quality._step import StepStats
from qianmo.standard import Status
from qianmo.store import Database, add_records, get_record, set_status
from tests.helpers.records import make_record

AGES = {"vuln": 1825, "threat": 730, "qa": 365, "default": 3650}
TODAY = date(2026, 6, 1)


def _step() -> Freshness:
    return Freshness(FreshnessOptions(max_age_days=AGES, as_of=TODAY))


def _run(step: Freshness, **fields: object) -> tuple[dict[str, object] | None, object]:
    rec = make_record(**fields)
    verdict = step.run(rec, StepStats("freshness"), "r")
    return rec.quality.flags.get("stale"), verdict


def test_age_is_judged_by_subdomain_then_domain_then_kind_then_default() -> None:
    step = _step()
    # threat intelligence three years old is stale; a vulnerability advisory is not yet
    flag, verdict = _run(step, domain="threat", valid_as_of="2023-05-01")
    assert flag is not None and flag["rule"] == "threat" and flag["reason"] == "age"
    assert verdict.reject is None and verdict.flags == ("stale",)
    assert _run(step, domain="vuln", valid_as_of="2023-05-01")[0] is None
    # a subdomain falls back to its top-level domain; valid_as_of wins over published_at
    flag, _ = _run(step, domain="vuln.web", valid_as_of="2020-01-01", published_at="2026-01-01")
    assert flag is not None and flag["rule"] == "vuln" and flag["basis"] == "valid_as_of"
    assert _run(step, domain="vuln.web", published_at="2024-01-01")[0] is None
    flag, _ = _run(step, kind="qa", published_at="2024-01-01")
    assert flag is not None and flag["rule"] == "qa" and flag["basis"] == "published_at"
    assert _run(step, published_at="2010-01-01")[0]["rule"] == "default"  # type: ignore[index]


def test_undated_records_and_unconfigured_ages_are_never_stale() -> None:
    assert _run(_step(), domain="threat")[0] is None
    bare = Freshness(FreshnessOptions(as_of=TODAY))
    assert _run(bare, domain="threat", valid_as_of="1999-01-01")[0] is None


def test_a_refreshed_record_loses_the_flag_and_a_rerun_changes_nothing() -> None:
    step, stats = _step(), StepStats("freshness")
    rec = make_record(domain="threat", valid_as_of="2020-01-01")
    assert step.run(rec, stats, "r").changed and "stale" in rec.quality.flags
    assert not step.run(rec, stats, "r").changed  # same verdict, nothing new
    rec.valid_as_of = rec.valid_as_of.replace(year=2026)  # type: ignore[union-attr]
    assert step.run(rec, stats, "r").changed and "stale" not in rec.quality.flags


def test_records_derived_from_a_withdrawn_source_are_stale_in_a_run(db: Database) -> None:
    source = make_record(content={"text": "Upstream advisory text, long enough to keep."})
    child = make_record(
        kind="qa",
        content={"question": "What does the upstream advisory say?", "answer": "It says so."},
        lineage={"root": source.id, "parents": [source.id]},
    )
    other = make_record(
        kind="qa",
        content={"question": "What does another advisory say?", "answer": "Something else."},
    )
    with db.write() as s:
        add_records(s, [source, child, other], actor="test")
        set_status(s, [source.id], Status.WITHDRAWN, reason="contributor", actor="test")
    pipeline = parse_pipeline("name: t\nsteps:\n  - freshness\n")
    run_quality(db, RunOptions(pipeline=pipeline, workers=1), actor="tester")
    with db.read() as s:
        flagged, kept = get_record(s, child.id), get_record(s, other.id)
    stale = flagged.quality.flags["stale"]
    assert stale == {"resolved": False, "reason": "superseded", "parents": [source.id]}
    assert flagged.status is Status.ACCEPTED  # flagged, not dropped
    assert "stale" not in kept.quality.flags
