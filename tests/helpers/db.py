"""Test databases: a fresh SQLite file, or a fresh PostgreSQL schema when configured."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from qianmo.store import Database, upgrade

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
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = Database(url, schema=schema)
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
