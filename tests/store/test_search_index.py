"""The SQLite search index follows edits and deletions through its key table, never by scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, text

from qianmo.store import Database, RecordRow, add_records, save_version, search_records, upgrade
from qianmo.store._migrate import _config
from tests.helpers.records import make_record


def _index_sizes(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("records", "records_fts", "records_fts_keys")
        )


def _edit_and_delete(db: Database) -> None:
    keep, edit, gone = (make_record(content={"text": f"{w} alpha beta"}) for w in "xyz")
    with db.write() as s:
        add_records(s, [keep, edit, gone], actor="t")
    edit.content = {"text": "gamma delta 注入漏洞"}
    with db.write() as s:
        save_version(s, edit, actor="t", change="edit")
        s.execute(delete(RecordRow).where(RecordRow.id == gone.id))
    with db.read() as s:
        assert [r.id for r in search_records(s, "alpha")] == [keep.id]
        assert [r.id for r in search_records(s, "注入漏")] == [edit.id]
        assert search_records(s, "z alpha") == []


def test_edits_and_deletions_reach_the_index(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL searches the column's own trigram index")
    _edit_and_delete(db)
    assert _index_sizes(db)[0] == 2
    assert len(set(_index_sizes(db))) == 1


def _steps_to_edit_one(db: Database, record_id: str) -> int:
    """SQLite virtual-machine steps (in tens) of one edit, triggers included: a count that
    grows with the table when a trigger scans, and stays put when it finds its row by key."""
    raw = db.engine.raw_connection()
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0  # 0 = carry on

    try:
        raw.driver_connection.set_progress_handler(tick, 10)  # type: ignore[union-attr]
        cur = raw.cursor()
        cur.execute("UPDATE records SET search_text = ? WHERE id = ?", ("edited", record_id))
        raw.commit()
        raw.driver_connection.set_progress_handler(None, 0)  # type: ignore[union-attr]
    finally:
        raw.close()
    return steps[0]


def _steps_small_and_large(db: Database) -> tuple[int, int]:
    first = [make_record(content={"text": f"entry {i} of ten"}) for i in range(10)]
    with db.write() as s:
        add_records(s, first, actor="t")
    small = _steps_to_edit_one(db, first[3].id)
    more = [make_record(content={"text": f"entry {i} of many"}) for i in range(3000)]
    with db.write() as s:
        add_records(s, more, actor="t")
    return small, _steps_to_edit_one(db, first[5].id)


def _workspace_before_the_key_table(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = _config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "annotate02")
        # today's code writes the records columns a later migration (release01) adds
        for column in LATER_RECORD_COLUMNS:
            conn.exec_driver_sql(f"ALTER TABLE records ADD COLUMN {column}")
    return db


LATER_RECORD_COLUMNS = ("policy_inputs TEXT", "dup_cluster VARCHAR(256)")


def _drop_later_columns(db: Database) -> None:
    """Back to the old schema before upgrading it (the migration adds them again)."""
    with db.engine.begin() as conn:
        for column in LATER_RECORD_COLUMNS:
            conn.exec_driver_sql(f"ALTER TABLE records DROP COLUMN {column.split()[0]}")


def test_an_edit_costs_the_same_however_large_the_index(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    small, large = _steps_small_and_large(db)
    assert large <= 2 * small + 5, (small, large)


def test_the_old_triggers_scanned_the_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The control for the test above: before the key table, an edit's cost grew with the index.
    db = _workspace_before_the_key_table(tmp_path)
    small, large = _steps_small_and_large(db)
    db.dispose()
    assert large > 20 * max(small, 1), (small, large)


def test_upgrade_keys_the_entries_of_an_existing_workspace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = _workspace_before_the_key_table(tmp_path)
    old = make_record(content={"text": "written before the key table"})
    with db.write() as s:
        add_records(s, [old], actor="t")
    _drop_later_columns(db)
    upgrade(db)
    old.content = {"text": "rewritten after the upgrade"}
    with db.write() as s:
        save_version(s, old, actor="t", change="edit")
    with db.read() as s:
        assert search_records(s, "before the key") == []
        assert [r.id for r in search_records(s, "after the upgrade")] == [old.id]
    assert _index_sizes(db) == (1, 1, 1)
    db.dispose()
