"""Per-file change detection in mirror folders: a re-sync reads only the files that changed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import select

from qianmo.ingest.sources import import_source, sync_source
from qianmo.ingest.sources._catalog import Catalog
from qianmo.ingest.sources._common import SourceObject
from qianmo.ingest.sources._derive import derive_items
from qianmo.ingest.sources._formats import FORMATS
from qianmo.standard import Record, Status, content_hash
from qianmo.store import Database, ImportRow, RecordFilter, RecordRow, SourceFileRow, list_records

FIX = Path(__file__).parent / "fixtures"


def _mirror(tmp_path: Path, name: str = "cve") -> Path:
    mirror = tmp_path / name
    shutil.copytree(FIX / name, mirror)
    return mirror


def _state(db: Database) -> dict[str, SourceFileRow]:
    with db.read() as s:
        rows = s.execute(select(SourceFileRow)).scalars().all()
        s.expunge_all()
    return {r.path: r for r in rows}


def _garble_keeping_stat(path: Path) -> None:
    """Other bytes, same size and modification time: only reading the file could tell."""
    stat = path.stat()
    path.write_bytes(b"{" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_first_sync_keeps_each_files_state(db: Database, tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    result = sync_source(db, "cve", mirror, actor="t")
    state = _state(db)
    assert set(state) == {"CVE-2030-0001.json", "CVE-2030-0002.json", "CVE-2030-0003.json"}
    one = state["CVE-2030-0001.json"]
    assert one.ids == ["CVE-2030-0001"] and one.size == (mirror / one.path).stat().st_size
    assert one.mtime_ns == (mirror / one.path).stat().st_mtime_ns
    assert one.import_id == result.import_id and len(one.sha256) == 64


def test_unchanged_files_are_not_read_and_a_changed_one_is(db: Database, tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    sync_source(db, "cve", mirror, actor="t")
    _garble_keeping_stat(mirror / "CVE-2030-0001.json")  # unread: its stat did not change
    changed = mirror / "CVE-2030-0002.json"
    changed.write_text(changed.read_text().replace("2030-0002", "2030-0002", 1) + "\n")
    result = sync_source(db, "cve", mirror, actor="t")
    assert not result.counts.rejected
    assert (result.counts.read, result.counts.unchanged, result.counts.withdrawn) == (3, 3, 0)
    assert _state(db)["CVE-2030-0002.json"].import_id == result.import_id
    assert _state(db)["CVE-2030-0001.json"].import_id != result.import_id
    forced = sync_source(db, "cve", mirror, actor="t", force=True)  # --full reads every file
    bad = [r.location for r in forced.counts.rejected]
    assert len(bad) == 1 and bad[0].startswith(str(mirror / "CVE-2030-0001.json"))


def test_no_change_resync_is_recorded_as_unchanged_input(db: Database, tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    first = sync_source(db, "cve", mirror, actor="t")
    again = sync_source(db, "cve", mirror, actor="t")
    assert (again.counts.read, again.counts.unchanged, again.counts.added) == (3, 3, 0)
    assert again.digest == first.digest
    with db.read() as s:
        row = s.get(ImportRow, again.import_id)
        assert row is not None and row.counts["input_unchanged"] is True


def test_touched_file_is_hashed_not_parsed_and_its_new_time_kept(
    db: Database, tmp_path: Path
) -> None:
    mirror = _mirror(tmp_path)
    sync_source(db, "cve", mirror, actor="t")
    path = mirror / "CVE-2030-0003.json"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    result = sync_source(db, "cve", mirror, actor="t")
    assert (result.counts.unchanged, result.counts.updated, result.counts.added) == (3, 0, 0)
    assert _state(db)[path.name].mtime_ns == path.stat().st_mtime_ns


def test_removed_file_withdraws_its_record_and_drops_its_state(
    db: Database, tmp_path: Path
) -> None:
    mirror = _mirror(tmp_path)
    sync_source(db, "cve", mirror, actor="t")
    (mirror / "CVE-2030-0003.json").unlink()
    result = sync_source(db, "cve", mirror, actor="t")  # no file changed, one is gone
    assert result.counts.withdrawn == 1
    assert "CVE-2030-0003.json" not in _state(db)
    with db.read() as s:
        gone = [
            r
            for r in list_records(s, RecordFilter(), limit=500)
            if str(r.source.original_id).startswith("CVE-2030-0003")
        ]
    assert gone and all(r.status is Status.WITHDRAWN for r in gone)


def test_file_with_a_problem_is_read_again_and_listed_again(db: Database, tmp_path: Path) -> None:
    mirror = _mirror(tmp_path, "sigma")  # broken.yml is a malformed rule
    first = sync_source(db, "sigma", mirror, actor="t")
    again = sync_source(db, "sigma", mirror, actor="t")
    assert first.counts.rejected and len(again.counts.rejected) == len(first.counts.rejected)
    assert "broken.yml" not in _state(db) and "lotus_webshell.yml" in _state(db)


def test_derived_items_are_valid_records(db: Database, tmp_path: Path) -> None:
    """Items are built without re-validating what they copy from their document: each must
    still be exactly what validating it gives. Reading validates again, so the stored row is
    checked too: its hash column must be the hash of the content stored beside it."""
    import_source(db, "cve", [_mirror(tmp_path)], actor="t")
    import_source(db, "kev", [FIX / "kev.json"], actor="t")
    with db.read() as s:
        items = [r for r in list_records(s, RecordFilter(), limit=5000) if "derived" in r.tags]
        hashes = dict(s.execute(select(RecordRow.id, RecordRow.content_hash)).all())
    assert len(items) > 20
    for item in items:
        assert Record.model_validate(item.model_dump()) == item
        assert hashes[item.id] == content_hash(item.kind.value, item.content)


def test_built_items_equal_their_full_validation() -> None:
    """The items `derive_items` builds (before any store round trip, which validates on read)
    carry every field, and each is exactly what validating it gives."""
    read = [
        (FORMATS[name].family, o)
        for name, path in (("cve", FIX / "cve"), ("kev", FIX / "kev.json"))
        for o in FORMATS[name].reader(path, {}, on_reject=None)
        if isinstance(o, SourceObject) and not o.withdrawn
    ]
    catalog = Catalog()
    catalog.add_objects(o for _, o in read)
    items = [i for family, o in read for i in derive_items(o, family, catalog)]
    assert len(items) > 20
    for item in items:
        assert set(vars(item)) == set(Record.model_fields)
        again = Record.model_validate(item.model_dump())
        assert again == item and again.model_dump() == item.model_dump()
