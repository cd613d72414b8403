"""The SQLite search index follows edits and deletions through its key table, never by scan."""

from __future__ import annotations

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


def test_the_trigger_finds_an_entry_by_key(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    with db.read() as s:
        plan = s.execute(
            text("EXPLAIN QUERY PLAN SELECT fts_rowid FROM records_fts_keys WHERE record_id = 'x'")
        ).all()
    assert any("PRIMARY KEY" in str(row) or "autoindex" in str(row) for row in plan), plan


def test_upgrade_keys_the_entries_of_an_existing_workspace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = _config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "annotate02")
    old = make_record(content={"text": "written before the key table"})
    with db.write() as s:
        add_records(s, [old], actor="t")
    upgrade(db)
    old.content = {"text": "rewritten after the upgrade"}
    with db.write() as s:
        save_version(s, old, actor="t", change="edit")
    with db.read() as s:
        assert search_records(s, "before the key") == []
        assert [r.id for r in search_records(s, "after the upgrade")] == [old.id]
    assert _index_sizes(db) == (1, 1, 1)
    db.dispose()
