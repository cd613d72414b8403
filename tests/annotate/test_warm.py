"""A server's start-up warm-up: every pooled PostgreSQL connection has prepared and planned a
label's statements before the first request, and nothing in the database changed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from qianmo.annotate import claim, submit_next, warm_up
from qianmo.annotate._claim import Lease
from qianmo.annotate._counted import counted_labels
from qianmo.annotate._warm import _CAMPAIGN
from qianmo.errors import QianmoError
from qianmo.store import WARM_RUNS, Database, prime_lookups
from tests.helpers.annotate import add_corpus, add_people, make_campaign

TABLES = (
    "annotation_slots",
    "annotation_assignments",
    "annotation_labels",
    "annotation_items",
    "annotator_stats",
    "audit_log",
    "records",
)


def _state(db: Database) -> dict[str, object]:
    with db.read() as s:
        return {t: s.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in TABLES}


def test_warm_up_plans_every_pooled_connection_and_changes_nothing(db: Database) -> None:
    if db.is_sqlite:
        db.warm(prime_lookups, warm_up)  # nothing to warm on SQLite: a no-op
        pytest.skip("needs PostgreSQL (QIANMO_TEST_DATABASE_URL)")
    add_people(db, "annotator", "ann", "bob")
    add_corpus(db, 3)
    make_campaign(db, overlap=2)
    task = claim(db, "c1", "ann")
    assert task is not None
    before = _state(db)
    db.dispose()
    db.warm(prime_lookups, warm_up)
    assert _state(db) == before
    pool = db.engine.pool
    assert pool.checkedin() == pool.size()  # type: ignore[attr-defined]
    held = [db.engine.connect() for _ in range(pool.size())]  # type: ignore[attr-defined]
    try:
        for conn in held:
            plans = conn.exec_driver_sql(
                "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            ).all()
            # prepared by psycopg after 5 runs, then run (planned) the other 7 times
            claims = [n for sql, n in plans if "WITH claimed AS" in sql]
            assert claims and all(n >= WARM_RUNS - 5 for n in claims)
            assert any("WITH ended AS" in sql for sql, _ in plans)
    finally:
        for conn in held:
            conn.close()
    # the warmed connections serve a label as before
    done = submit_next(db, task.assignment_id, "ann", {"correct": "yes"})
    assert done.submitted.labels == 1 and done.task is not None


def test_a_submit_with_a_duration_runs_the_statement_warm_up_planned(db: Database) -> None:
    # psycopg prepares a statement per (text, parameter types): a duration typed by its value
    # (int2, int4; None is unknown) would be another statement, planned anew on every
    # connection, and not the warmed one. Six runs of each: psycopg prepares at the sixth.
    if db.is_sqlite:
        pytest.skip("needs PostgreSQL (QIANMO_TEST_DATABASE_URL)")
    nobody = Lease("", "", "", False, "")
    with db.engine.connect() as conn:
        with conn.begin():
            warm_up(conn)
            for ms in (None, 1234, 40_000) * 6:
                with pytest.raises(QianmoError):  # no such lease: nothing written
                    counted_labels(conn, _CAMPAIGN, nobody, {}, ms)
        submits = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE starts_with(statement, 'WITH ended AS')"
        ).scalar()
    assert submits == 1


def _prepared_on_the_pooled_connection(db: Database) -> set[str]:
    pool = db.engine.pool
    assert pool.checkedin() == 1  # type: ignore[attr-defined]  # one at a time: one connection
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").all()
        conn.commit()
    return {sql for (sql,) in found}


def test_a_refused_submit_keeps_the_connections_prepared_statements(db: Database) -> None:
    # psycopg deallocates every statement a connection prepared on ROLLBACK; a refusal (wrong
    # answer, someone else's lease) is decided before the transaction begins, so none is sent.
    if db.is_sqlite:
        pytest.skip("needs PostgreSQL (QIANMO_TEST_DATABASE_URL)")
    add_people(db, "annotator", "ann", "bob")
    add_corpus(db, 9)
    make_campaign(db, overlap=1)
    db.dispose()  # from here on, one pooled connection serves every step
    task = claim(db, "c1", "ann")
    for _ in range(6):  # psycopg prepares a statement at its sixth run
        assert task is not None
        task = submit_next(db, task.assignment_id, "ann", {"correct": "yes"}).task
    assert task is not None
    before = _prepared_on_the_pooled_connection(db)
    assert any("WITH ended AS" in sql for sql in before)
    with pytest.raises(QianmoError, match="not one of"):
        submit_next(db, task.assignment_id, "ann", {"correct": "maybe"})
    with pytest.raises(QianmoError, match="no such assignment of yours"):
        submit_next(db, task.assignment_id, "bob", {"correct": "yes"})
    assert _prepared_on_the_pooled_connection(db) == before
    done = submit_next(db, task.assignment_id, "ann", {"correct": "yes"})  # the lease still holds
    assert done.submitted.labels == 1
