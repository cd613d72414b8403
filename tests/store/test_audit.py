"""The audit chain: one entry per change set, and verify names the first tampered entry."""

from __future__ import annotations

from sqlalchemy import text

from qianmo.store import Database, Entry, add_records, audit, audit_and_commit, verify_chain
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


def test_audit_and_commit_extends_the_chain_as_audit_does(db: Database) -> None:
    """The first entry (no head yet), then entries after `audit`'s, one or two at a time: on
    PostgreSQL the server computes each hash (a statement each, committed in the same
    pipeline); the chain verifies, and the last act committed the change made before it."""
    for i in range(3):
        with db.write() as s:
            if i == 1:
                audit(s, actor="plain", action="test.change", object_type="record")
            s.execute(text("CREATE TABLE IF NOT EXISTS t_marks (n INTEGER)"))
            s.execute(text("INSERT INTO t_marks VALUES (:n)"), {"n": i})
            entry = Entry(
                actor='名前 "quoted" \\ user',  # escaped in the JSON that is hashed
                action="test.change",
                object_type="record",
                object_ids=[f"r{i}", "ü"],
            )
            audit_and_commit(s, [entry] * (1 + i % 2))  # one entry or two
    with db.read() as s:
        report = verify_chain(s)
        marks = s.execute(text("SELECT n FROM t_marks ORDER BY n")).scalars().all()
        seqs = s.execute(text("SELECT seq FROM audit_log ORDER BY seq")).scalars().all()
    assert report.ok, report.problem
    assert report.entries == 5 and seqs == [1, 2, 3, 4, 5]
    assert marks == [0, 1, 2]
