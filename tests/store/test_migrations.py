"""Migrations build the whole schema from empty, and running them again changes nothing."""

from __future__ import annotations

from pathlib import Path

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


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    # is_current() reads the head without importing Alembic (CLI start-up); it must agree.
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from qianmo.store._migrate import head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("qianmo.store") / "migrations"))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_a_database_never_migrated_is_not_current(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert not is_current(db)
    db.dispose()
