"""Workspace backup → restore round trips, consistent snapshots while writing, and moves."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from qianmo.ingest import IngestOptions, ingest_file
from qianmo.settings import get_settings
from qianmo.store import (
    Database,
    RejectedRowRow,
    add_records,
    backup_counts,
    backup_database,
    count_records,
    move_database,
    restore_database,
    scratch_schema,
    upgrade,
    verify_chain,
)
from tests.helpers.db import postgres_url
from tests.helpers.ingest import qa_row, write_jsonl
from tests.helpers.records import make_record


def _fill(db: Database, tmp_path: Path, n: int, name: str = "in") -> None:
    rows = [*[qa_row(i) for i in range(n)], {"kind": "qa"}]
    ingest_file(db, write_jsonl(tmp_path / f"{name}.jsonl", rows), IngestOptions(), actor="t")


def test_backup_then_restore_round_trip(db: Database, tmp_path: Path) -> None:
    _fill(db, tmp_path, 30)
    file = tmp_path / "snap.qianmo"
    counts = backup_database(db, file)
    assert counts["records"] == 30 and counts["import_rejects"] == 1
    _fill(db, tmp_path, 50, "more")
    report = restore_database(db, file)
    assert report.audit.ok and report.counts["records"] == 30
    with db.read() as s:
        assert count_records(s) == 30 and verify_chain(s).ok
    _fill(db, tmp_path, 31, "after")  # the restored workspace takes new work
    with db.read() as s:
        assert count_records(s) == 30 + 31


def test_backup_is_consistent_while_the_workspace_is_written(db: Database, tmp_path: Path) -> None:
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with db.write() as s:
                add_records(s, [make_record() for _ in range(20)], actor="w")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        files = [tmp_path / f"b{i}.db" for i in range(3)]
        for f in files:
            backup_database(db, f)
    finally:
        stop.set()
        thread.join()
    for f in files:
        counts = backup_counts(f)
        # Every committed change set is whole: each record with its first version and one
        # audit entry per batch of twenty.
        assert counts["records"] == counts["record_versions"]
        assert counts["records"] == 20 * counts["audit_log"]
        snapshot = Database(f"sqlite:///{f}")
        with snapshot.read() as s:
            assert verify_chain(s).ok
        snapshot.dispose()


def test_restore_refuses_what_is_not_a_backup(db: Database, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("hello", encoding="utf-8")
    with pytest.raises(Exception, match="not a qianmo backup"):
        restore_database(db, junk)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    url = postgres_url()
    if url is None:
        pytest.skip("set QIANMO_TEST_DATABASE_URL to test moves to PostgreSQL")
    with scratch_schema(url, "t") as schema:
        yield schema


def test_move_sqlite_to_postgresql_and_verify(tmp_path: Path, pg_schema: str) -> None:
    source = Database(f"sqlite:///{tmp_path / 'src.db'}")
    upgrade(source)
    _fill(source, tmp_path, 40)
    target = Database(str(postgres_url()), schema=pg_schema)
    report = move_database(source, target)
    assert report.audit.ok and report.counts["records"] == 40
    with target.write() as s:  # serial ids continue after the copied ones
        s.execute(insert(RejectedRowRow), [{"import_id": _any_import(target), "location": "x",
                                             "raw": "", "reasons": []}])  # fmt: skip
        assert verify_chain(s).ok and count_records(s) == 40
    with pytest.raises(Exception, match="already holds data"):
        move_database(source, target)
    source.dispose()
    target.dispose()


def _any_import(db: Database) -> str:
    with db.read() as s:
        return str(s.execute(text("SELECT id FROM imports LIMIT 1")).scalar_one())


def test_cli_backup_restore_and_move(cli, tmp_path: Path, workspace_home: Path, request) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    path = write_jsonl(tmp_path / "in.jsonl", [qa_row(i) for i in range(5)])
    assert cli("ingest", str(path)).code == 0
    snap = tmp_path / "snap.db"
    r = cli("workspace", "backup", str(snap))
    assert r.code == 0 and "5 records" in r.out
    assert cli("workspace", "backup", str(snap)).code == 1  # never overwritten by accident
    assert cli("ingest", str(write_jsonl(tmp_path / "b.jsonl", [qa_row(9)]))).code == 0
    r = cli("workspace", "restore", str(snap), "--json")
    assert r.code == 0 and json.loads(r.out)["counts"]["records"] == 5
    assert len(json.loads(cli("records", "list", "--json").out)) == 5
    assert cli("audit", "verify").code == 0
    if postgres_url() is None:
        return
    schema = request.getfixturevalue("pg_schema")
    url = f"{postgres_url()}?options=-csearch_path%3D{schema},public"
    r = cli("workspace", "move", "--to", url)
    assert r.code == 0, r.err
    assert "audit chain intact" in r.out
    assert "database_url" in (workspace_home / "qianmo.toml").read_text(encoding="utf-8")
    get_settings.cache_clear()
    assert get_settings().db_url == url  # the workspace now points at the server
    moved = Database(url)
    with moved.read() as s:
        assert verify_chain(s).ok and count_records(s) == 5
    moved.dispose()
