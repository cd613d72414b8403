"""Workspace snapshots and moves: a backup is a SQLite file, whatever the database.

A SQLite workspace is copied with `VACUUM INTO`, which reads one consistent snapshot while
other connections keep writing. A PostgreSQL workspace is copied table by table inside one
REPEATABLE READ transaction into a fresh SQLite file. A move copies every table into another
database after running the migrations there, then checks the row counts and the audit chain.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, Table, func, inspect, select, text

from qianmo.errors import QianmoError
from qianmo.store._audit import AuditReport, verify_chain
from qianmo.store._db import Database
from qianmo.store._migrate import upgrade
from qianmo.store._models import Base

COPY_BATCH = 2000
# Tables the database keeps for itself: the migration version and SQLite's search index
# (rebuilt by triggers as the records are copied).
_INTERNAL = ("alembic_version", "records_fts", "sqlite_")


@dataclass(frozen=True)
class CopyReport:
    counts: dict[str, int]
    audit: AuditReport


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _check_known_tables(conn: Connection) -> None:
    names = inspect(conn).get_table_names()
    unknown = [n for n in names if not n.startswith(_INTERNAL) and n not in Base.metadata.tables]
    if unknown:
        raise QianmoError(f"tables this qianmo does not know: {', '.join(sorted(unknown))}")


def table_counts(conn: Connection) -> dict[str, int]:
    existing = set(inspect(conn).get_table_names())
    return {
        str(t.name): int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in _tables()
        if t.name in existing
    }


def _utc_fixer(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, DateTime)]


def _copy_table(src: Connection, dst: Connection, table: Table) -> None:
    dates = _utc_fixer(table)
    result = src.execution_options(yield_per=COPY_BATCH).execute(select(table))
    for part in result.mappings().partitions(COPY_BATCH):
        rows = [dict(r) for r in part]
        for row in rows:
            # SQLite hands back naive datetimes that mean UTC; say so before PostgreSQL reads
            # them in its session time zone.
            for name in dates:
                value = row.get(name)
                if isinstance(value, datetime) and value.tzinfo is None:
                    row[name] = value.replace(tzinfo=UTC)
        dst.execute(table.insert(), rows)


def _reset_sequences(dst: Connection) -> None:
    """PostgreSQL: serial columns continue after the copied ids, not from 1."""
    if dst.dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement is not False:
            dst.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                    f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
                ),
                {"t": table.name, "c": pk[0].name},
            )


def _copy_all(src: Connection, dst: Connection) -> None:
    _check_known_tables(src)
    existing = set(inspect(src).get_table_names())
    for table in _tables():
        if table.name in existing:
            _copy_table(src, dst, table)
    _reset_sequences(dst)


def _snapshot(db: Database) -> contextlib.AbstractContextManager[Connection]:
    conn = db.engine.connect()
    if db.dialect == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return _in_transaction(conn)


@contextlib.contextmanager
def _in_transaction(conn: Connection) -> Any:
    with conn, conn.begin():
        yield conn


def backup_database(db: Database, dest: Path) -> dict[str, int]:
    """Write a consistent snapshot of the database to `dest` (a SQLite file); the counts."""
    dest = dest.absolute()
    tmp = dest.with_name(f".{dest.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        if db.is_sqlite:
            raw = db.engine.raw_connection()
            try:
                raw.driver_connection.execute("VACUUM INTO ?", (str(tmp),))  # type: ignore[union-attr]
            finally:
                raw.close()
        else:
            target = Database(f"sqlite:///{tmp}")
            try:
                upgrade(target)
                with _snapshot(db) as src, target.engine.begin() as dst:
                    _copy_all(src, dst)
            finally:
                target.dispose()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return backup_counts(dest)


def backup_counts(path: Path) -> dict[str, int]:
    """Row counts of a backup file, refusing a file that is not a qianmo backup."""
    if not path.is_file():
        raise QianmoError("no such backup file", file=str(path))
    with open(path, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise QianmoError("not a qianmo backup (not a SQLite file)", file=str(path))
    backup = Database(f"sqlite:///{path.absolute()}")
    try:
        with backup.engine.connect() as conn:
            if "records" not in inspect(conn).get_table_names():
                raise QianmoError("not a qianmo backup (no records table)", file=str(path))
            return table_counts(conn)
    finally:
        backup.dispose()


def restore_database(db: Database, src: Path) -> CopyReport:
    """Replace the database's content with the backup's; the backup's schema is upgraded."""
    expected = backup_counts(src)
    if db.is_sqlite:
        db.dispose()
        dest_path = db.engine.url.database
        assert dest_path is not None
        with sqlite3.connect(src) as source, sqlite3.connect(dest_path) as dest:
            source.backup(dest)
        source.close()
        dest.close()
    else:
        backup = Database(f"sqlite:///{src.absolute()}")
        try:
            with backup.engine.connect() as s_conn, db.engine.begin() as dst:
                names = ", ".join(t.name for t in reversed(_tables()))
                dst.execute(text(f"TRUNCATE {names} CASCADE"))
                with s_conn.begin():
                    _copy_all(s_conn, dst)
        finally:
            backup.dispose()
    upgrade(db)
    return _verify(db, expected)


def _verify(db: Database, expected: dict[str, int]) -> CopyReport:
    with db.engine.connect() as conn:
        counts = table_counts(conn)
    for name, n in expected.items():
        if counts.get(name) != n:
            raise QianmoError(f"{name}: {counts.get(name)} rows where the source has {n}")
    with db.read() as s:
        report = verify_chain(s)
    if not report.ok:
        raise QianmoError(f"the audit chain does not verify: {report.problem}")
    return CopyReport(counts, report)


def move_database(source: Database, target: Database) -> CopyReport:
    """Copy everything into `target` (migrated first, and empty), then check counts and audit."""
    upgrade(target)
    with target.engine.connect() as conn:
        held = {n: c for n, c in table_counts(conn).items() if c}
    if held:
        listed = ", ".join(f"{n} ({c})" for n, c in sorted(held.items()))
        raise QianmoError(f"the target already holds data: {listed}")
    with _snapshot(source) as src, target.engine.begin() as dst:
        expected = table_counts(src)
        _copy_all(src, dst)
    return _verify(target, expected)
