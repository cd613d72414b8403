"""Prepared statements run straight on the driver: `run_begun` sends a write transaction's
BEGIN with its first statement, and the transaction stays one (all or nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from qianmo.standard import utcnow
from qianmo.store import Database, OrgRow, Prepared, arg, before_begin

_ADD_ORG = Prepared(
    insert(OrgRow.__table__).values(  # type: ignore[arg-type]
        id=arg("id"), name=arg("name"), vetted=False, created_at=utcnow()
    )
)
_ORGS = Prepared(select(OrgRow.name).order_by(OrgRow.name))


def _names(db: Database) -> list[str]:
    with db.read() as s:
        return [name for (name,) in _ORGS.run(s.connection()).rows]


def test_a_transaction_begun_with_its_first_statement_is_all_or_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        _ADD_ORG.run_begun(s.connection(), {"id": "o1", "name": "first"})
        _ADD_ORG.run(s.connection(), {"id": "o2", "name": "second"})
        raise RuntimeError("refused after two writes")
    assert _names(db) == []  # both rolled back
    with db.write() as s:
        _ADD_ORG.run_begun(s.connection(), {"id": "o1", "name": "first"})
        _ADD_ORG.run(s.connection(), {"id": "o2", "name": "second"})
    assert _names(db) == ["first", "second"]


def test_the_pool_gives_the_connection_back_in_a_transaction_mode(db: Database) -> None:
    # On PostgreSQL `run_begun` puts the connection in autocommit for the rest of its
    # transaction: the next writer on that connection must be in a transaction again.
    with db.write() as s:
        _ADD_ORG.run_begun(s.connection(), {"id": "o1", "name": "first"})
    db.engine.pool.dispose()
    db.dispose()
    with db.write() as s:
        _ADD_ORG.run_begun(s.connection(), {"id": "o2", "name": "second"})
    with pytest.raises(RuntimeError), db.write() as s:  # the same pooled connection
        s.execute(text("UPDATE orgs SET name = 'renamed' WHERE id = 'o2'"))
        _ADD_ORG.run(s.connection(), {"id": "o3", "name": "third"})
        raise RuntimeError("refused")
    assert _names(db) == ["first", "second"]
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]


def test_a_connection_the_server_ends_mid_write_goes_back_to_the_pool(db: Database) -> None:
    # SQLAlchemy invalidates it and checks its record in with no DBAPI connection: the
    # check-in hook that turns autocommit off must not fail there (it raised AttributeError,
    # which hid the disconnect, and the pool never got the record back).
    if db.is_sqlite:
        pytest.skip("needs PostgreSQL (QIANMO_TEST_DATABASE_URL)")
    with pytest.raises(OperationalError), db.write() as s:
        s.execute(select(func.pg_terminate_backend(func.pg_backend_pid())))
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with db.write() as s:  # the next writer works, on a new connection
        _ADD_ORG.run_begun(s.connection(), {"id": "o1", "name": "after"})
    assert _names(db) == ["after"]


def test_a_transaction_with_its_own_isolation_level_keeps_it(db: Database) -> None:
    # psycopg begins it with BEGIN ISOLATION LEVEL …: `run_begun`'s own plain BEGIN would
    # have made it READ COMMITTED, and reads `before_begin` moved out of it would have left
    # its snapshot.
    if db.is_sqlite:
        pytest.skip("needs PostgreSQL (QIANMO_TEST_DATABASE_URL)")
    isolation = text("SELECT current_setting('transaction_isolation')")
    with db.engine.connect() as plain:
        conn = plain.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            with before_begin(conn):
                assert conn.execute(isolation).scalar() == "repeatable read"
            _ADD_ORG.run_begun(conn, {"id": "o1", "name": "first"})
            assert conn.execute(isolation).scalar() == "repeatable read"


def test_the_first_write_carries_the_begin_after_a_lookup_used_the_connection(
    db: Database,
) -> None:
    # A lookup connection comes back with psycopg's isolation level set (SQLAlchemy restores
    # READ COMMITTED): the BEGIN sent with the first write says so, and still goes with it.
    if db.is_sqlite:
        pytest.skip("needs PostgreSQL (QIANMO_TEST_DATABASE_URL)")
    db.dispose()
    with db.lookup_connection() as conn:
        conn.exec_driver_sql("SELECT 1")
    with db.write() as s:
        driver = s.connection().connection.driver_connection
        assert driver.isolation_level is not None  # type: ignore[union-attr]
        _ADD_ORG.run_begun(s.connection(), {"id": "o1", "name": "first"})
        assert driver.autocommit  # type: ignore[union-attr]  # BEGIN sent by run_begun
        isolation = s.execute(text("SELECT current_setting('transaction_isolation')"))
        assert isolation.scalar() == "read committed"
    assert db.engine.pool.checkedin() == 1  # type: ignore[attr-defined]  # one connection
    assert _names(db) == ["first"]
