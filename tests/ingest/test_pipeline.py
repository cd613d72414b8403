"""Imports: bad rows by location with nothing lost, strict all-or-nothing, crash-safe resume,
idempotence, and each import a job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from qianmo.errors import QianmoError
from qianmo.ingest import (
    IngestOptions,
    StrictAbort,
    get_import,
    ingest_file,
    list_imports,
    rejected_rows,
    run_ingest,
)
from qianmo.ingest import _pipeline as pipeline
from qianmo.store import (
    Database,
    JobRow,
    RecordFilter,
    RecordRow,
    count_records,
    list_records,
    verify_chain,
)
from tests.helpers.ingest import qa_row, write_json, write_jsonl


def _jsonl_with_bad_lines(path: Path, n: int, bad: dict[int, Any]) -> Path:
    """n rows; the rows at the given 1-based line numbers replaced by bad ones."""
    return write_jsonl(path, [bad.get(i, qa_row(i)) for i in range(1, n + 1)])


def _record_count(db: Database) -> int:
    with db.read() as s:
        return count_records(s)


def test_bad_jsonl_rows_are_reported_by_line_and_kept_raw(db: Database, tmp_path: Path) -> None:
    no_answer = {"kind": "qa", "content": {"question": "q?"}}
    path = _jsonl_with_bad_lines(tmp_path / "in.jsonl", 10, {3: no_answer, 7: "{oops"})
    summary = ingest_file(db, path, IngestOptions(org="acme", license="MIT"), actor="t")
    assert (summary.read, summary.added, summary.rejected) == (10, 8, 2)
    assert summary.problems[0] == f"{path}:3: content.answer: is required"
    assert summary.problems[1].startswith(f"{path}:7: invalid JSON")
    with db.read() as s:
        rejects = rejected_rows(s, summary.import_id)
        info = get_import(s, summary.import_id)
        (rec,) = list_records(s, RecordFilter.of(org="acme"), limit=1)
    assert [r["location"] for r in rejects] == [f"{path}:3", f"{path}:7"]
    assert rejects[0]["reasons"] == [{"field": "content.answer", "reason": "is required"}]
    assert rejects[1]["raw"] == "{oops"
    assert info["status"] == "done" and info["counts"]["rejected"] == 2
    assert rec.source.name == "in" and rec.source.license == "MIT" and rec.status.value == "raw"
    assert rec.lineage.steps[-1].name == summary.import_id
    assert rec.lineage.steps[-1].detail == {"where": f"{path}:1"}


def test_a_corrected_file_reimports_only_what_was_rejected(db: Database, tmp_path: Path) -> None:
    path = _jsonl_with_bad_lines(tmp_path / "in.jsonl", 5, {2: {"kind": "qa", "content": {}}})
    ingest_file(db, path, IngestOptions(), actor="t")
    write_jsonl(path, [qa_row(i) for i in range(1, 6)])
    again = ingest_file(db, path, IngestOptions(), actor="t")
    assert (again.added, again.duplicates, again.rejected) == (1, 4, 0)
    assert _record_count(db) == 5


def test_bad_csv_rows_by_line(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "kind,content.question,content.answer,lang\n"
        "qa,What is SSRF?,Server-side request forgery,en\n"
        "qa,Missing answer,,en\n"
        "qa,Bad lang,yes,english!\n"
        "qa,Fine,ok,zh\n",
        encoding="utf-8",
    )
    summary = ingest_file(db, path, IngestOptions(), actor="t")
    assert (summary.added, summary.rejected) == (2, 2)
    assert summary.problems == [
        f"{path}:3: content.answer: is required",
        f"{path}:4: lang: 'english!' is not a BCP 47 language tag",
    ]


def test_bad_json_array_elements_by_index(db: Database, tmp_path: Path) -> None:
    rows: list[Any] = [qa_row(1), {"kind": "riddle", "content": {}}, qa_row(3), "text"]
    path = write_json(tmp_path / "in.json", rows)
    summary = ingest_file(db, path, IngestOptions(), actor="t")
    assert (summary.added, summary.rejected) == (2, 2)
    assert summary.problems[0].startswith(f"{path}[1]: kind: 'riddle' is not a kind")
    assert summary.problems[1] == f"{path}[3]: not an object"


def test_strict_writes_nothing_when_any_row_is_bad(db: Database, tmp_path: Path) -> None:
    path = _jsonl_with_bad_lines(tmp_path / "in.jsonl", 30, {29: {"kind": "qa"}})
    with pytest.raises(StrictAbort) as e:
        ingest_file(db, path, IngestOptions(strict=True, batch_size=5), actor="t")
    assert e.value.bad == 1 and e.value.problems == [f"{path}:29: content: must be an object"]
    assert _record_count(db) == 0
    with db.read() as s:
        assert list_imports(s) == []
    good = _jsonl_with_bad_lines(tmp_path / "good.jsonl", 30, {})
    summary = ingest_file(db, good, IngestOptions(strict=True, batch_size=5), actor="t")
    assert summary.added == 30 and _record_count(db) == 30


class Boom(Exception):
    """Stands in for a crash half-way through an import."""


def _fail_on_batch(monkeypatch: pytest.MonkeyPatch, n: int, exc: BaseException) -> None:
    real = pipeline.add_records
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == n:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "add_records", flaky)


def _copies(db: Database) -> dict[str, int]:
    with db.read() as s:
        rows = s.execute(
            select(RecordRow.original_id, func.count()).group_by(RecordRow.original_id)
        ).all()
    return {str(k): int(v) for k, v in rows}


def test_crash_half_way_then_rerun_gives_one_copy_of_each(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _jsonl_with_bad_lines(tmp_path / "in.jsonl", 50, {4: {"kind": "qa"}, 44: "{"})
    options = IngestOptions(batch_size=10)
    _fail_on_batch(monkeypatch, 3, Boom("disk on fire"))
    with pytest.raises(Boom):
        ingest_file(db, path, options, actor="t")
    assert _record_count(db) == 19  # two batches of ten rows committed, one of them bad
    with db.read() as s:
        (imp,) = list_imports(s)
    assert imp["status"] == "interrupted" and imp["counts"]["added"] == 19
    monkeypatch.undo()
    summary = ingest_file(db, path, options, actor="t")
    assert summary.resumed and summary.import_id == imp["id"]
    assert (summary.read, summary.added, summary.rejected) == (50, 48, 2)
    copies = _copies(db)
    assert len(copies) == 48 and set(copies.values()) == {1}
    with db.read() as s:
        assert len(rejected_rows(s, imp["id"])) == 2
        assert verify_chain(s).ok
    # And the same file once more adds nothing, by content hash and source id.
    again = ingest_file(db, path, options, actor="t")
    assert not again.resumed and (again.added, again.duplicates) == (0, 48)
    assert _record_count(db) == 48


def test_ctrl_c_in_a_job_then_rerun_completes_the_import(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _jsonl_with_bad_lines(tmp_path / "in.jsonl", 40, {})
    options = IngestOptions(batch_size=10)
    _fail_on_batch(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        run_ingest(db, path, options, actor="t")
    assert _record_count(db) == 10
    with db.read() as s:
        (job,) = s.execute(select(JobRow)).scalars()
    assert job.status == "cancelled"  # a worker will not pick the interrupted job up later
    monkeypatch.undo()
    summary = run_ingest(db, path, options, actor="t")
    assert summary.resumed and summary.added == 40
    assert len(_copies(db)) == 40 and set(_copies(db).values()) == {1}


def test_each_import_is_a_job_and_a_row(db: Database, tmp_path: Path) -> None:
    path = _jsonl_with_bad_lines(tmp_path / "in.jsonl", 3, {})
    summary = run_ingest(db, path, IngestOptions(source="mine"), actor="alice")
    with db.read() as s:
        (job,) = s.execute(select(JobRow)).scalars()
        info = get_import(s, summary.import_id)
    assert job.kind == "ingest" and job.status == "done" and job.result["added"] == 3
    assert info["job_id"] == job.id and info["actor"] == "alice" and info["file"] == str(path)
    assert len(info["sha256"]) == 64 and info["options"]["source"] == "mine"


def test_a_failing_import_job_reports_the_location(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "image.bin"
    path.write_bytes(b"\x00\x01")
    with pytest.raises(QianmoError, match="give --format"):
        run_ingest(db, path, IngestOptions(), actor="t")


def test_a_resumed_import_counts_the_updates_of_its_first_run(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ingested again under another licence, stopped after two batches, then resumed: the
    # summary counts every record that got the new licence, not only the last run's
    path = _jsonl_with_bad_lines(tmp_path / "in.jsonl", 30, {})
    ingest_file(db, path, IngestOptions(license="MIT", batch_size=10), actor="t")
    options = IngestOptions(license="Apache-2.0", batch_size=10)
    _fail_on_batch(monkeypatch, 3, Boom("disk on fire"))
    with pytest.raises(Boom):
        ingest_file(db, path, options, actor="t")
    monkeypatch.undo()
    summary = ingest_file(db, path, options, actor="t")
    assert summary.resumed and (summary.updated, summary.duplicates) == (30, 0)
