"""Two mirrors of one source: a sync withdraws only what its own mirror brought in."""

from __future__ import annotations

import shutil
from pathlib import Path

from qianmo.ingest.sources import import_source
from qianmo.ingest.sources._sync import sync_source
from qianmo.standard import Status
from qianmo.store import Database, RecordFilter, list_records

FIX = Path(__file__).parent / "fixtures" / "cve"


def _mirror(root: Path, *cves: str) -> Path:
    root.mkdir()
    for cve in cves:
        shutil.copy(FIX / f"{cve}.json", root / f"{cve}.json")
    return root


def _status(db: Database) -> dict[str, Status]:
    """Each CVE document's status, by CVE id."""
    with db.read() as s:
        docs = list_records(s, RecordFilter.parse(["kind=document"]), limit=100)
    return {str(r.source.original_id): r.status for r in docs}


def test_syncing_one_mirror_leaves_the_other_mirrors_records(db: Database, tmp_path: Path) -> None:
    a = _mirror(tmp_path / "a", "CVE-2030-0001")
    b = _mirror(tmp_path / "b", "CVE-2030-0003")
    sync_source(db, "cve", a, actor="t")
    second = sync_source(db, "cve", b, actor="t")
    assert second.counts.withdrawn == 0
    assert _status(db) == {"CVE-2030-0001": Status.RAW, "CVE-2030-0003": Status.RAW}
    # a file gone from its own mirror is still withdrawn, and only it
    (a / "CVE-2030-0001.json").unlink()
    shutil.copy(FIX / "CVE-2030-0002.json", a / "CVE-2030-0002.json")  # so a is not empty
    third = sync_source(db, "cve", a, actor="t")
    assert third.counts.withdrawn == 2  # 0001 gone; 0002 is rejected upstream
    got = _status(db)
    assert got["CVE-2030-0001"] is Status.WITHDRAWN
    assert got["CVE-2030-0003"] is Status.RAW


def test_a_file_imported_from_inside_the_mirror_belongs_to_it(db: Database, tmp_path: Path) -> None:
    a = _mirror(tmp_path / "a", "CVE-2030-0001", "CVE-2030-0003")
    import_source(db, "cve", [a / "CVE-2030-0001.json"], actor="t")
    sync_source(db, "cve", a, actor="t")
    (a / "CVE-2030-0001.json").unlink()
    assert sync_source(db, "cve", a, actor="t").counts.withdrawn == 1
    assert _status(db)["CVE-2030-0001"] is Status.WITHDRAWN


def test_a_mirror_whose_path_differs_only_in_case_is_another(db: Database, tmp_path: Path) -> None:
    # SQLite's LIKE ignores ASCII case: `…/cves/%` matched `…/CVES/more` there, not on PostgreSQL
    a = _mirror(tmp_path / "cves", "CVE-2030-0001")
    (tmp_path / "CVES").mkdir()
    b = _mirror(tmp_path / "CVES" / "more", "CVE-2030-0003")
    sync_source(db, "cve", b, actor="t")
    assert sync_source(db, "cve", a, actor="t").counts.withdrawn == 0
    assert _status(db)["CVE-2030-0003"] is Status.RAW
