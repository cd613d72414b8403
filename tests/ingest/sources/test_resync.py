from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from qianmo.ingest.sources import import_source
from qianmo.standard import Status
from qianmo.store import (
    Database,
    RecordFilter,
    add_records,
    get_versions,
    list_records,
    set_status,
)
from tests.helpers.db import fresh_database

FIX = Path(__file__).parent / "fixtures"


def _all(db: Database):  # type: ignore[no-untyped-def]
    with db.read() as s:
        return {r.id: r for r in list_records(s, RecordFilter(), limit=5000)}


def test_changing_one_object_updates_only_it_and_its_items(db: Database, tmp_path: Path) -> None:
    mirror = tmp_path / "cvelist"
    shutil.copytree(FIX / "cve", mirror)
    import_source(db, "cve", [mirror], actor="t")
    before = _all(db)
    path = mirror / "CVE-2030-0003.json"
    data = json.loads(path.read_text())
    cna = data["containers"]["cna"]
    cna["metrics"][0]["cvssV3_0"].update(
        vectorString="CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", baseScore=7.8
    )
    data["cveMetadata"]["dateUpdated"] = "2030-03-01T00:00:00.000Z"
    path.write_text(json.dumps(data))
    result = import_source(db, "cve", [mirror], actor="t")
    assert (result.counts.updated, result.counts.unchanged, result.counts.added) == (1, 2, 0)
    after = _all(db)
    changed = {rid for rid in before if after[rid].version != before[rid].version}
    doc = next(r for r in after.values() if r.source.original_id == "CVE-2030-0003")
    assert doc.id in changed and doc.version == 2
    assert all(after[rid].lineage.root == doc.id for rid in changed)
    regenerated = {after[rid].source.original_id for rid in changed if rid != doc.id}
    assert regenerated == {
        "CVE-2030-0003#cve:cvss#en",
        "CVE-2030-0003#cve:cvss#zh",
        "CVE-2030-0003#cve:cvss-mcq#en",
        "CVE-2030-0003#cve:cvss-mcq#zh",
    }
    cvss = next(r for r in after.values() if r.source.original_id == "CVE-2030-0003#cve:cvss#en")
    assert cvss.content["answer"] == "CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"
    with db.read() as s:
        old = get_versions(s, cvss.id)
    assert old[0].content["answer"].startswith("CVSS:3.0/AV:N") and len(old) == 2
    assert len(after) == len(before)  # nothing new: regenerated in place


def test_removed_and_rejected_are_withdrawn_and_items_marked_stale(
    db: Database, tmp_path: Path
) -> None:
    mirror = tmp_path / "cvelist"
    shutil.copytree(FIX / "cve", mirror)
    import_source(db, "cve", [mirror], actor="t")
    (mirror / "CVE-2030-0003.json").unlink()
    path = mirror / "CVE-2030-0001.json"
    data = json.loads(path.read_text())
    data["cveMetadata"]["state"] = "REJECTED"
    data["containers"]["cna"]["rejectedReasons"] = [{"lang": "en", "value": "Not a flaw."}]
    path.write_text(json.dumps(data))
    result = import_source(db, "cve", [mirror], actor="t", withdraw_absent=True)
    assert result.counts.withdrawn == 2
    recs = _all(db).values()
    lotus = next(r for r in recs if r.source.original_id == "CVE-2030-0001")
    kestrel = next(r for r in recs if r.source.original_id == "CVE-2030-0003")
    assert lotus.status is Status.WITHDRAWN and "Not a flaw" in (lotus.status_reason or "")
    assert kestrel.status is Status.WITHDRAWN and kestrel.status_reason == "withdrawn upstream"
    lotus_items = [r for r in recs if r.lineage.root == lotus.id and r.id != lotus.id]
    assert lotus_items and all(r.status is Status.WITHDRAWN for r in lotus_items)
    assert all("stale" in r.quality.flags for r in lotus_items)
    kestrel_items = [r for r in recs if r.lineage.root == kestrel.id and r.id != kestrel.id]
    assert kestrel_items and all(r.status is Status.WITHDRAWN for r in kestrel_items)


def _versions(db: Database) -> dict[str, int]:
    return {rid: r.version for rid, r in _all(db).items()}


def test_forced_resync_of_unchanged_input_changes_nothing(db: Database) -> None:
    import_source(db, "cve", [FIX / "cve"], actor="t")
    import_source(db, "kev", [FIX / "kev.json"], actor="t")  # attached to one held CVE record
    before = _versions(db)
    cve = import_source(db, "cve", [FIX / "cve"], actor="t", force=True)
    kev = import_source(db, "kev", [FIX / "kev.json"], actor="t", force=True)
    assert (cve.counts.read, cve.counts.unchanged, cve.counts.updated) == (3, 3, 0)
    assert (kev.counts.read, kev.counts.unchanged, kev.counts.updated) == (4, 4, 0)
    assert cve.counts.items_added == kev.counts.items_added == 0
    assert _versions(db) == before


def test_platform_status_is_not_an_upstream_change(db: Database) -> None:
    import_source(db, "cve", [FIX / "cve"], actor="t")
    held = {r.source.original_id: r for r in _all(db).values()}
    lotus = held["CVE-2030-0001"]
    with db.write() as s:
        set_status(s, [lotus.id], Status.ACCEPTED, reason=None, actor="reviewer")
    again = import_source(db, "cve", [FIX / "cve"], actor="t", force=True)
    assert again.counts.updated == 0 and again.counts.unchanged == 3
    after = _all(db)[lotus.id]
    assert after.status is Status.ACCEPTED and after.version == lotus.version


def test_a_batch_of_changes_versions_each_once(db: Database, tmp_path: Path) -> None:
    mirror = tmp_path / "cvelist"
    shutil.copytree(FIX / "cve", mirror)
    import_source(db, "cve", [mirror], actor="t")
    for path in sorted(mirror.glob("*.json")):
        data = json.loads(path.read_text())
        cna = data["containers"]["cna"]
        if "descriptions" in cna:
            for text in cna["descriptions"]:
                text["value"] += " Fixed upstream in 2.0."
            path.write_text(json.dumps(data))
    result = import_source(db, "cve", [mirror], actor="t")
    assert result.counts.updated == 2 and result.counts.unchanged == 1
    docs = [r for r in _all(db).values() if r.kind.value == "document" and r.version == 2]
    assert len(docs) == 2 and all("Fixed upstream in 2.0." in d.content["text"] for d in docs)
    with db.read() as s:
        assert [v.version for v in get_versions(s, docs[0].id)] == [1, 2]


def test_withdrawal_after_since_names_the_source_the_input_holds(
    db: Database, tmp_path: Path
) -> None:
    """`since` leaves no object to write, yet the input was read: the documents it no longer
    holds are looked up under the source its objects name (the CVE reader's `cve`), not a name
    guessed from the options (which this reader does not take its name from)."""
    mirror = tmp_path / "cvelist"
    shutil.copytree(FIX / "cve", mirror)
    import_source(db, "cve", [mirror], actor="t")
    before = {r.id: r.status for r in _all(db).values()}
    (mirror / "CVE-2030-0003.json").unlink()
    result = import_source(
        db,
        "cve",
        [mirror],
        actor="t",
        options={"source": "my-cve-copy"},
        since=datetime(2100, 1, 1, tzinfo=UTC),
        withdraw_absent=True,
    )
    assert result.counts.added == 0 and result.counts.updated == 0
    after = _all(db).values()
    kestrel = next(r for r in after if r.source.original_id == "CVE-2030-0003")
    assert kestrel.status is Status.WITHDRAWN and kestrel.status_reason == "withdrawn upstream"
    assert all(r.status is before[r.id] for r in after if r.lineage.root != kestrel.id)


def test_items_held_without_their_document_are_not_added_again(
    db: Database, tmp_path: Path
) -> None:
    # items brought in on their own (an export of items ingested elsewhere): a first import of
    # their document must find them held, not write a second record of each
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    with fresh_database(other_dir) as other:
        import_source(other, "cve", [FIX / "cve"], actor="t")
        with other.read() as s:
            items = [r for r in list_records(s, RecordFilter(), limit=100) if r.kind != "document"]
    assert items
    with db.write() as s:
        add_records(s, items, actor="t")
    result = import_source(db, "cve", [FIX / "cve"], actor="t")
    assert result.counts.items_added == 0
    held = [r.source.original_id for r in _all(db).values() if r.kind != "document"]
    assert sorted(held) == sorted(r.source.original_id for r in items)
