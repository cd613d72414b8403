"""Whole runs against the store: statuses, lineage, reruns, restore, contamination, jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from qianmo.errors import QianmoError
from qianmo.quality import (
    RunOptions,
    default_pipeline,
    load_pipeline,
    parse_pipeline,
    pipeline_of_steps,
    render_html,
    run_quality,
    run_report,
)
from qianmo.standard import PersonalInfo, Record, Status
from qianmo.store import (
    Database,
    SuiteItemRow,
    SuiteRow,
    add_records,
    enqueue,
    get_record,
    get_versions,
    list_records,
    restore_records,
    run_job_inline,
)
from tests.helpers.quality import BASE_EN, NEAR_EN, quality_corpus
from tests.helpers.records import make_record


def _load(db: Database, records: list[Record]) -> list[Record]:
    with db.write() as s:
        add_records(s, records, actor="test")
    return records


def _all(db: Database) -> dict[str, Record]:
    with db.read() as s:
        return {r.id: r for r in list_records(s, limit=1000)}


def _run(db: Database, **kwargs: object) -> dict[str, object]:
    options = RunOptions(pipeline=default_pipeline(), workers=1, **kwargs)  # type: ignore[arg-type]
    return run_quality(db, options, actor="tester")


def test_default_pipeline_end_to_end(db: Database) -> None:
    recs = _load(db, quality_corpus())
    summary = _run(db)
    got = _all(db)
    (en, near_en, mirror, other_org, similar, zh, near_zh, pii, secret, payload, short) = (
        got[r.id] for r in recs
    )
    assert short.status is Status.REJECTED and short.status_reason == "heuristics:too_short"
    # an exact copy in another source of the same org and TLP is rejected by exact dedup,
    # the survivor by near dedup: a near duplicate of equal quality is more recent …
    assert {en.status_reason, mirror.status_reason} == {
        "exact_dedup:duplicate",
        "near_dedup:duplicate",
    }
    cluster = near_en.quality.flags["duplicate"]["cluster"]
    assert near_en.status is Status.ACCEPTED
    # … org-b's AMBER copy is linked to the same cluster, never rejected
    assert other_org.status is Status.ACCEPTED
    assert other_org.quality.flags["duplicate"]["cluster"] == cluster
    assert en.quality.flags["duplicate"]["cluster"] == cluster
    assert mirror.quality.flags["duplicate"]["cluster"] == cluster
    assert similar.status is Status.ACCEPTED and "duplicate" not in similar.quality.flags
    assert {zh.status, near_zh.status} == {Status.ACCEPTED, Status.REJECTED}
    assert zh.lang == "zh" and en.lang == "en"
    assert "13812345678" not in pii.text() and "<PII:ID_CARD>" in pii.text()
    assert pii.personal_info is PersonalInfo.DEIDENTIFIED
    assert pii.quality.flags["pii"]["resolved"] is True
    assert "AKIAIOSFODNN7EXAMPLE" not in secret.text()
    assert secret.quality.flags["secret"]["resolved"] is True
    assert payload.status is Status.ACCEPTED and payload.quality.flags["payload"]["restricted"]
    assert all(0 <= (r.quality.score or 0) <= 1 for r in got.values())
    # every content edit is a new version whose lineage names the step and the run
    steps = [s for s in pii.lineage.steps if s.type == "step"]
    assert {"pii", "normalize"} & {s.name for s in steps}
    assert all(s.detail["run"] == summary["run"] for s in steps)
    with db.read() as s:
        assert "13812345678" in get_versions(s, pii.id)[0].text()  # the original stays readable
    assert summary["rejected"] == 4


def test_second_run_changes_nothing(db: Database) -> None:
    _load(db, quality_corpus())
    _run(db)
    before = {rid: r.model_dump() for rid, r in _all(db).items()}
    second = _run(db)
    assert second["versions"] == 0 and second["rejected"] == 0
    assert {rid: r.model_dump() for rid, r in _all(db).items()} == before


def test_restore_brings_a_rejected_record_back_and_a_rerun_respects_it(db: Database) -> None:
    recs = _load(db, quality_corpus())
    _run(db)
    short = recs[-1]
    with db.write() as s:
        restore_records(s, [short.id], actor="reviewer")
    _run(db)
    with db.read() as s:
        back = get_record(s, short.id)
    assert back.status is Status.NEEDS_REVIEW and back.status_reason == "restored by reviewer"


def test_contamination_against_a_registered_suite_flags_both_sides(db: Database) -> None:
    item = make_record("qa", content={"question": BASE_EN, "answer": "Upgrade Log4j2."})
    held_out = make_record(content={"text": NEAR_EN}, eval_only=True)
    train = make_record(content={"text": BASE_EN + " Seen in the wild in December 2021."})
    clean = make_record(content={"text": "Cross-site request forgery tricks a browser " * 4})
    _load(db, [item, held_out, train, clean])
    with db.write() as s:
        s.add(SuiteRow(id="S1", name="suite", filters=[], config={}))
        s.flush()
        s.add(
            SuiteItemRow(
                suite_id="S1",
                position=0,
                record_id=item.id,
                record_version=1,
                kind="qa",
                lang="en",
                data=item.to_json(),
            )
        )
    options = RunOptions(pipeline=pipeline_of_steps(["contamination"]), workers=1)
    run_quality(db, options, actor="tester")
    got = _all(db)
    flag = got[train.id].quality.flags["contaminated"]
    assert set(flag["with"]) == {item.id, held_out.id} and flag["overlap"] > 0.5
    assert flag["resolved"] is False
    assert got[item.id].quality.flags["contaminated"]["with"] == [train.id]
    assert train.id in got[held_out.id].quality.flags["contaminated"]["with"]
    assert "contaminated" not in got[clean.id].quality.flags


def test_chinese_contamination_uses_character_ngrams(db: Database) -> None:
    question = "攻击者利用反序列化漏洞在目标服务器上执行任意命令并植入后门程序的过程是怎样的"
    item = make_record("qa", content={"question": question, "answer": "见分析"}, eval_only=True)
    train = make_record(content={"text": "某报告写道：" + question + "。该组织随后横向移动。"})
    _load(db, [item, train])
    run_quality(db, RunOptions(pipeline=pipeline_of_steps(["contamination"]), workers=1), actor="t")
    assert _all(db)[train.id].quality.flags["contaminated"]["with"] == [item.id]


def test_run_as_a_job_and_resume_keeps_the_run(db: Database) -> None:
    _load(db, quality_corpus())
    options = RunOptions(pipeline=default_pipeline(), workers=1)
    with db.write() as s:
        job_id = enqueue(s, "quality", options.to_json(), actor="tester")
    job = run_job_inline(db, job_id)
    assert job.status == "done", job.error
    run_id = job.result["run"]
    # a resumed attempt runs the same run again: nothing changes, the run row is reused
    again = run_quality(db, options, actor="tester", run_id=run_id)
    assert again["run"] == run_id and again["versions"] == 0
    with db.read() as s:
        report = run_report(s)
    assert report["run"] == run_id
    names = [s["name"] for s in report["steps"]]
    assert names == [s.name for s in default_pipeline().steps]
    page = render_html(report)
    assert "<script" not in page and "<svg" in page and "near_dedup" in page


def test_report_html_escapes_data(db: Database) -> None:
    _load(db, [make_record(content={"text": "<script>alert(1)</script>"}, source={"name": "<b>x"})])
    _run(db)
    with db.read() as s:
        page = render_html(run_report(s))
    assert "<script>alert" not in page and "<b>x" not in page


def test_pipeline_yaml_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("steps:\n  - normalize\n  - near_dedup:\n      threshold: 2\n")
    with pytest.raises(QianmoError) as e:
        load_pipeline(path)
    assert "p.yaml:3" in str(e.value) and "near_dedup.threshold" in str(e.value)
    with pytest.raises(QianmoError, match="unknown step 'nope'"):
        parse_pipeline("steps: [nope]")
    with pytest.raises(QianmoError, match="non-empty `steps`"):
        parse_pipeline("name: x")
    spec = parse_pipeline("name: mine\nsteps:\n  - normalize\n  - pii: {redact: false}\n")
    assert [s.name for s in spec.steps] == ["normalize", "pii"]
