"""Prepared statements run straight on the driver: `run_begun` sends a write transaction's
BEGIN with its first statement, and the transaction stays one (all or nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text

from qianmo.standard import utcnow
from qianmo.store import Database, OrgRow, Prepared, arg

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
