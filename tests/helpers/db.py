"""Test databases: a fresh SQLite file, or a fresh PostgreSQL schema when configured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from qianmo.store import Database, scratch_schema, upgrade

PG_URL_ENV = "QIANMO_TEST_DATABASE_URL"


def postgres_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database; on PostgreSQL in its own schema, dropped afterwards."""
    url = postgres_url()
    if url is None:
        db = Database(f"sqlite:///{tmp_path / 'test.db'}")
        upgrade(db)
        try:
            yield db
        finally:
            db.dispose()
        return
    with scratch_schema(url, "t") as schema:
        db = Database(url, schema=schema)
        upgrade(db)
        try:
            yield db
        finally:
            db.dispose()


# Every test schema leaves dead rows in the system catalogs when it is dropped; a server with
# autovacuum off (this project's CI machine has it off) keeps them, and they slowed every later
# connection's catalog look-ups (pg_attribute had grown to 410 MB after a day of runs).
CATALOGS = (
    "pg_attribute",
    "pg_class",
    "pg_depend",
    "pg_type",
    "pg_constraint",
    "pg_index",
    "pg_attrdef",
    "pg_trigger",
)


def vacuum_catalogs(url: str) -> None:
    """Let PostgreSQL reuse the catalog rows the dropped test schemas left behind."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM " + ", ".join(f"pg_catalog.{c}" for c in CATALOGS)))
    finally:
        engine.dispose()
