"""Edits made where records were read (quality workers), stored as their next versions."""

from __future__ import annotations

from sqlalchemy import select

from qianmo.quality._fields import map_text
from qianmo.standard import PersonalInfo, Record
from qianmo.store import (
    Database,
    Edit,
    RecordRow,
    Snapshot,
    add_records,
    get_record,
    get_versions,
    save_version,
    search_records,
    store_edits,
)
from tests.helpers.records import make_record


def _row(db: Database, rid: str) -> RecordRow:
    with db.read() as s:
        row = s.execute(select(RecordRow).where(RecordRow.id == rid)).scalar_one()
        s.expunge(row)
        return row


def test_an_edit_stores_the_document_and_the_columns_that_changed(db: Database) -> None:
    rec = make_record(content={"text": "an old phrase about kernels"})
    with db.write() as s:
        add_records(s, [rec], actor="t")
    read = get_record_fresh(db, rec.id)
    before = Snapshot.of(read)
    read.quality.score = 0.75
    read.personal_info = PersonalInfo.NONE
    map_text(read, lambda t: t.replace("old", "renewed"))
    edit = Edit.of(read, before)
    assert set(edit.columns) >= {"quality_score", "personal_info", "content_hash", "search_text"}
    assert "lang" not in edit.columns and read.version == 1  # the record is left as it was
    with db.write() as s:
        assert store_edits(s, [edit], actor="t", change="c") == 1
    with db.read() as s:
        stored = get_record(s, rec.id)
        assert [v.version for v in get_versions(s, rec.id)] == [1, 2]
        assert [r.id for r in search_records(s, "renewed")] == [rec.id]
    assert stored.version == 2 and stored.quality.score == 0.75
    assert stored.content["text"] == "an renewed phrase about kernels"
    row = _row(db, rec.id)
    assert (row.version, row.quality_score, row.personal_info) == (2, 0.75, "none")
    assert row.content_hash == stored.content_hash and row.data["version"] == 2


def test_an_edit_of_a_record_changed_meanwhile_becomes_the_next_version(db: Database) -> None:
    rec = make_record()
    with db.write() as s:
        add_records(s, [rec], actor="t")
    read = get_record_fresh(db, rec.id)
    before = Snapshot.of(read)
    read.quality.score = 0.5
    edit = Edit.of(read, before)
    with db.write() as s:  # someone else saves version 2 first
        other = get_record(s, rec.id)
        other.lang = "zh"
        save_version(s, other, actor="t", change="elsewhere")
    with db.write() as s:
        store_edits(s, [edit], actor="t", change="c")
    with db.read() as s:
        stored = get_record(s, rec.id)
        assert [v.version for v in get_versions(s, rec.id)] == [1, 2, 3]
    # the edit, made from version 1, is stored whole as version 3, columns matching it
    row = _row(db, rec.id)
    assert stored.version == 3 and row.version == 3 and row.data["version"] == 3
    assert (row.lang, row.quality_score) == (stored.lang, 0.5)


def get_record_fresh(db: Database, rid: str) -> Record:
    with db.read() as s:
        return get_record(s, rid)
