"""Ingesting an unchanged generic file again with other terms (`--license`, `--org`, `--tlp`):
the records it brought earlier get a new version under the new terms, their lineage kept."""

from __future__ import annotations

import json
from pathlib import Path

from qianmo.ingest import IngestOptions, ingest_file
from qianmo.standard import Record
from qianmo.store import Database, RecordFilter, get_versions, list_records
from tests.helpers.ingest import qa_row, write_jsonl


def _records(db: Database) -> list[Record]:
    with db.read() as s:
        return sorted(list_records(s, RecordFilter(), limit=100), key=lambda r: r.id)


def test_a_new_licence_gives_the_held_records_a_new_version(db: Database, tmp_path: Path) -> None:
    own = {**qa_row(3), "source": {"original_id": "q-3", "license": "CC0-1.0"}}
    path = write_jsonl(tmp_path / "in.jsonl", [qa_row(1), qa_row(2), own])
    first = ingest_file(db, path, IngestOptions(license="MIT"), actor="t")
    assert first.added == 3
    before = {r.id: r for r in _records(db)}
    again = ingest_file(db, path, IngestOptions(license="Apache-2.0"), actor="t")
    # the row that states its own licence keeps it: only the two others change
    assert (again.added, again.updated, again.duplicates) == (0, 2, 1)
    after = _records(db)
    assert [r.id for r in after] == sorted(before)
    by_original = {r.source.original_id: r for r in after}
    assert by_original["q-1"].source.license == "Apache-2.0" and by_original["q-1"].version == 2
    assert by_original["q-3"].source.license == "CC0-1.0" and by_original["q-3"].version == 1
    rec = by_original["q-2"]
    assert rec.content == before[rec.id].content and rec.content_hash == before[rec.id].content_hash
    old_steps = before[rec.id].lineage.steps
    assert rec.lineage.steps[: len(old_steps)] == old_steps
    assert rec.lineage.steps[-1].type == "import" and rec.lineage.steps[-1].name == again.import_id
    with db.read() as s:
        versions = get_versions(s, rec.id)
    assert [v.source.license for v in versions] == ["MIT", "Apache-2.0"]


def test_unstated_terms_are_left_and_the_same_terms_change_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [qa_row(1), qa_row(2)])
    ingest_file(db, path, IngestOptions(license="MIT", org="acme"), actor="t")
    same = ingest_file(db, path, IngestOptions(license="MIT", org="acme"), actor="t")
    assert (same.updated, same.duplicates) == (0, 2)
    # no --license: the held licence stays; the new TLP is applied
    tlp = ingest_file(db, path, IngestOptions(tlp="GREEN"), actor="t")
    assert tlp.updated == 2
    recs = _records(db)
    assert {(r.source.license, r.source.org, r.source.tlp.value) for r in recs} == {
        ("MIT", "acme", "GREEN")
    }
    assert {r.version for r in recs} == {2}


def test_cli_ingest_again_with_a_new_licence(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_jsonl(tmp_path / "in.jsonl", [qa_row(1), qa_row(2)])
    assert cli("init").code == 0
    assert cli("ingest", str(path), "--license", "MIT").code == 0
    again = cli("ingest", str(path), "--license", "Apache-2.0")
    assert again.code == 0 and "2 updated, 0 already held" in again.out
    records = json.loads(cli("records", "list", "--json").out)
    assert {(r["source"]["license"], r["version"]) for r in records} == {("Apache-2.0", 2)}


def test_a_record_this_import_added_is_not_held_under_other_terms(
    db: Database, tmp_path: Path
) -> None:
    # the second row repeats the first's original id without its own licence: it is already
    # held, but by this very import, whose first row's own licence stands
    own = {**qa_row(1), "source": {"original_id": "q-1", "license": "CC0-1.0"}}
    path = write_jsonl(tmp_path / "in.jsonl", [own, qa_row(1)])
    first = ingest_file(db, path, IngestOptions(license="MIT"), actor="t")
    assert (first.added, first.updated, first.duplicates) == (1, 0, 1)
    assert [(r.source.license, r.version) for r in _records(db)] == [("CC0-1.0", 1)]


def test_records_without_an_original_id_are_matched_by_content(
    db: Database, tmp_path: Path
) -> None:
    rows = [{k: v for k, v in qa_row(n).items() if k != "source"} for n in (1, 2)]
    path = write_jsonl(tmp_path / "in.jsonl", [*rows, rows[0]])  # the first twice: one held
    assert ingest_file(db, path, IngestOptions(license="MIT"), actor="t").added == 2
    again = ingest_file(db, path, IngestOptions(license="Apache-2.0"), actor="t")
    assert (again.added, again.updated, again.duplicates) == (0, 2, 1)
    assert {(r.source.license, r.version) for r in _records(db)} == {("Apache-2.0", 2)}
