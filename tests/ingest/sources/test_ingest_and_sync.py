"""`qianmo ingest --format SOURCE` and `qianmo sync SOURCE` of the same input are one input: the
second of the two, with nothing changed, is recognised and skips it; the import row names the
input's digest and the job that ran it, as the generic ingest's rows do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qianmo.cli._common import workspace
from qianmo.ingest import IngestOptions, content_sha256, run_ingest
from qianmo.ingest.sources import SYNC_JOB, schedule_sync, sync_source
from qianmo.store import Database, ImportRow, JobRow, Worker

FIX = Path(__file__).parent / "fixtures"


def _row(db: Database, import_id: str) -> ImportRow:
    with db.read() as s:
        row = s.get(ImportRow, import_id)
        assert row is not None
        s.expunge(row)
    return row


def _ingest(db: Database, path: Path, fmt: str) -> tuple[ImportRow, dict[str, Any]]:
    summary = run_ingest(db, path, IngestOptions(format=fmt), actor="t")
    return _row(db, summary.import_id), {"added": summary.added, "read": summary.read}


def _sync(db: Database, path: Path, fmt: str) -> tuple[ImportRow, dict[str, Any]]:
    result = sync_source(db, fmt, path, actor="t")
    return _row(db, result.import_id), {"added": result.counts.added, "read": result.counts.read}


@pytest.mark.parametrize("order", ["ingest, then sync", "sync, then ingest"])
@pytest.mark.parametrize(
    ("fmt", "name"), [("cve", "cve"), ("kev", "kev.json"), ("attack", "attack")]
)
def test_second_of_ingest_and_sync_recognises_the_same_input(
    db: Database, tmp_path: Path, order: str, fmt: str, name: str
) -> None:
    path = tmp_path / name  # a mirror folder (cve), a file (kev), a folder read whole (attack)
    copy = shutil.copytree if (FIX / name).is_dir() else shutil.copyfile
    copy(FIX / name, path)
    steps = [_ingest, _sync] if order.startswith("ingest") else [_sync, _ingest]
    first, first_counts = steps[0](db, path, fmt)
    second, second_counts = steps[1](db, path, fmt)
    assert first_counts["added"] > 0
    assert second.counts["input_unchanged"] is True
    assert second_counts["added"] == 0 and second_counts["read"] == first_counts["read"]
    assert second.sha256 == first.sha256 and second.file_name == first.file_name
    if fmt != "cve":  # input read whole: the generic ingest's digest of the file or folder
        assert first.sha256 == content_sha256(path)


def test_import_rows_name_their_job(db: Database, tmp_path: Path) -> None:
    summary = run_ingest(db, FIX / "kev.json", IngestOptions(format="kev"), actor="t")
    job = schedule_sync(db, {"source": "cve", "path": str(FIX / "cve")}, actor="t")
    assert Worker(db).run_one(job)
    with db.read() as s:
        jobs = {j.kind: j for j in s.execute(select(JobRow)).scalars()}
        rows = {r.format: r for r in s.execute(select(ImportRow)).scalars()}
    assert rows["kev"].id == summary.import_id and rows["kev"].job_id == jobs["ingest"].id
    assert rows["cve"].job_id == job == jobs[SYNC_JOB].id
    assert all(r.status == "done" and r.finished_at and len(r.sha256) == 64 for r in rows.values())


def test_cli_ingest_then_sync_of_a_relative_path(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """As typed at a prompt: `qianmo ingest` runs its import as a job (from the absolute path)
    and `qianmo sync` from the path as given; the file is the same input either way."""
    shutil.copyfile(FIX / "kev.json", tmp_path / "kev.json")
    monkeypatch.chdir(tmp_path)
    assert cli("init").code == 0
    assert cli("ingest", "kev.json", "--format", "kev").code == 0
    synced = cli("sync", "kev", "kev.json", "--json")
    assert synced.code == 0, synced.err
    assert json.loads(synced.out)["added"] == 0
    with workspace().read() as s:
        rows = s.execute(select(ImportRow).order_by(ImportRow.created_at)).scalars().all()
        assert rows[-1].counts.get("input_unchanged") is True
        assert {r.file_name for r in rows} == {str((tmp_path / "kev.json").resolve())}
