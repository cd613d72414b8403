"""Migrations build the whole schema from empty, and running them again changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from qianmo.store import Base, Database, is_current, upgrade


def test_up_from_empty_creates_every_table(db: Database) -> None:
    assert is_current(db)
    tables = set(inspect(db.engine).get_table_names(schema=db.schema))
    assert set(Base.metadata.tables) <= tables
    if db.is_sqlite:
        assert "records_fts" in tables


def test_every_index_the_models_declare_is_created_by_the_migrations(db: Database) -> None:
    inspector = inspect(db.engine)
    for name, table in Base.metadata.tables.items():
        created = {i["name"] for i in inspector.get_indexes(name, schema=db.schema)}
        declared = {i.name for i in table.indexes}
        assert declared <= created, f"{name}: {sorted(declared - created)} not migrated"


def test_the_skip_checks_look_up_of_an_inputs_latest_import_uses_an_index(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    with db.read() as s:
        plan = s.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT sha256 FROM imports WHERE format = 'cve' "
                "AND file_name = 'x' AND status = 'done' ORDER BY created_at DESC LIMIT 1"
            )
        ).all()
    assert any("ix_imports_format_file_created" in str(row[-1]) for row in plan), plan


def _records_schema_objects(db: Database) -> set[tuple[str, str]]:
    """The indexes (and on SQLite the triggers) that hang on the records table."""
    if not db.is_sqlite:
        return {
            ("index", i["name"] or "")
            for i in inspect(db.engine).get_indexes("records", schema=db.schema)
        }
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT type, name FROM sqlite_master WHERE tbl_name = 'records'"))
        return {(kind, name) for kind, name in rows}


def test_undoing_release01_keeps_the_records_tables_triggers_and_indexes(db: Database) -> None:
    from alembic import command

    from qianmo.store._migrate import _config

    before = _records_schema_objects(db)
    cfg = _config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "web02")
    columns = {c["name"] for c in inspect(db.engine).get_columns("records", schema=db.schema)}
    assert not {"policy_inputs", "dup_cluster"} & columns
    assert _records_schema_objects(db) == before
    upgrade(db)
    assert _records_schema_objects(db) == before


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


def test_release01_fills_in_the_decision_inputs_of_stored_records(db: Database) -> None:
    """Records stored before the columns existed get the values a write gives them."""
    from alembic import command
    from sqlalchemy import select, update

    from qianmo.store import RecordRow, add_records
    from qianmo.store._migrate import _config
    from tests.helpers.circulate import accepted

    records = [
        accepted("qa"),
        accepted("qa", restrictions=["use:commercial-training", "org:org-a"]),
        accepted(
            "qa",
            quality={"score": 0.4, "flags": {"pii": {"resolved": True, "spans": [[0, 2]]}}},
            lineage={"parents": ["x"], "steps": [{"type": "redact", "name": "pii"}]},
        ),
        accepted("qa", quality={"flags": {"duplicate": {"cluster": 12, "resolved": False}}}),
    ]
    with db.write() as s:
        add_records(s, records, actor="test")
    columns = select(RecordRow.id, RecordRow.policy_inputs, RecordRow.dup_cluster)
    with db.read() as s:
        written = set(s.execute(columns).all())
    assert {r[2] for r in written} == {None, "12"} and len({r[1] for r in written}) == 4
    cfg = _config()
    with db.engine.begin() as conn:
        conn.execute(update(RecordRow).values(policy_inputs=None, dup_cluster=None))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "web02")
    upgrade(db)
    with db.read() as s:
        assert set(s.execute(columns).all()) == written


def test_the_back_fill_computes_the_columns_a_write_gives() -> None:
    """`policy_inputs_of_json` (release01, from stored JSON) and `row_values` (every write,
    from the record) pick the same inputs out of the two forms of a record."""
    from qianmo.store import row_values
    from qianmo.store._policy import policy_inputs_of_json
    from tests.helpers.circulate import accepted

    records = [
        accepted("qa"),
        accepted("qa", restrictions=["org:org-a", "use:commercial-training"]),
        accepted(
            "qa",
            quality={"flags": {"duplicate": {"cluster": "c7"}, "pii": {"redacted": True}}},
            lineage={"parents": ["x"], "steps": [{"type": "redact", "name": "pii"}]},
        ),
        accepted("qa", lineage={"steps": [{"type": "", "name": "unnamed step"}]}),
    ]
    for record in records:
        row = row_values(record)
        written = (row["policy_inputs"], row["dup_cluster"])
        assert policy_inputs_of_json(record.to_json()) == written
