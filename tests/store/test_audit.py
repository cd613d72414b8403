"""The audit chain: one entry per change set, and verify names the first tampered entry."""

from __future__ import annotations

from sqlalchemy import text

from qianmo.store import Database, add_records, audit, verify_chain
from tests.helpers.records import make_record


def _five_entries(db: Database) -> None:
    for i in range(5):
        with db.write() as s:
            audit(
                s,
                actor=f"user{i}",
                action="test.change",
                object_type="record",
                object_ids=[f"r{i}"],
            )


def _verify(db: Database) -> tuple[int | None, str]:
    with db.read() as s:
        report = verify_chain(s)
    return (report.problem.seq, report.problem.problem) if report.problem else (None, "")


def test_intact_chain_verifies(db: Database) -> None:
    _five_entries(db)
    with db.read() as s:
        report = verify_chain(s)
    assert report.ok and report.entries == 5


def test_bulk_change_is_one_entry_with_a_digest(db: Database) -> None:
    with db.write() as s:
        add_records(s, [make_record() for _ in range(150)], actor="importer")
        rows = s.execute(text("SELECT count, object_ids, digest FROM audit_log")).all()
    assert len(rows) == 1
    count, ids, digest = rows[0]
    assert count == 150 and digest and len(digest) == 64
    assert ids in ([], "[]")


def test_edited_entry_is_named(db: Database) -> None:
    _five_entries(db)
    with db.write() as s:
        s.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"))
    seq, problem = _verify(db)
    assert seq == 3 and "altered" in problem


def test_deleted_entry_is_named(db: Database) -> None:
    _five_entries(db)
    with db.write() as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    seq, problem = _verify(db)
    assert seq == 2 and "missing" in problem


def test_deleted_last_entry_is_noticed(db: Database) -> None:
    _five_entries(db)
    with db.write() as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 5"))
    seq, problem = _verify(db)
    assert seq == 5 and "removed" in problem


def test_swapped_entries_are_named(db: Database) -> None:
    _five_entries(db)
    with db.write() as s:
        s.execute(text("UPDATE audit_log SET seq = -1 WHERE seq = 2"))
        s.execute(text("UPDATE audit_log SET seq = 2 WHERE seq = 3"))
        s.execute(text("UPDATE audit_log SET seq = 3 WHERE seq = -1"))
    seq, problem = _verify(db)
    assert seq == 2 and "out of order" in problem
