"""Migrations build the whole schema from empty, and running them again changes nothing."""

from __future__ import annotations

from sqlalchemy import inspect

from qianmo.store import Base, Database, is_current, upgrade


def test_up_from_empty_creates_every_table(db: Database) -> None:
    assert is_current(db)
    tables = set(inspect(db.engine).get_table_names(schema=db.schema))
    assert set(Base.metadata.tables) <= tables
    if db.is_sqlite:
        assert "records_fts" in tables


def test_upgrade_again_is_a_no_op(db: Database) -> None:
    upgrade(db)
    assert is_current(db)
