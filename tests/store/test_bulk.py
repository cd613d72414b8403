"""Rows inserted through the driver's executemany, in the session's transaction."""

from __future__ import annotations

from typing import cast

import orjson
import pytest
from sqlalchemy import Table, exc, func, select

from qianmo.store import Database, ReleaseRow, insert_json_rows, insert_rows
from qianmo.store._models import ReleaseMemberRow

MEMBERS = cast(Table, ReleaseMemberRow.__table__)
COLUMNS = ("release_id", "record_id", "record_version", "content_hash", "split")


def _release(release_id: str) -> ReleaseRow:
    return ReleaseRow(id=release_id, name=release_id, version="1.0.0", request={})


def test_rows_follow_a_parent_the_session_has_not_flushed_yet(db: Database) -> None:
    with db.write() as s:
        s.add(_release("rel-1"))  # pending: the members' foreign key needs it written first
        insert_rows(s, MEMBERS, COLUMNS, [("rel-1", f"r{i}", 1, "h" * 64, "train") for i in (1, 2)])
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(MEMBERS)) == 2


def test_a_duplicate_row_raises_sqlalchemys_integrity_error(db: Database) -> None:
    row = ("rel-2", "r1", 1, "h" * 64, "train")
    with pytest.raises(exc.IntegrityError), db.write() as s:
        s.add(_release("rel-2"))
        insert_rows(s, MEMBERS, COLUMNS, [row, row])


def test_an_unknown_column_is_refused_before_any_sql(db: Database) -> None:
    with pytest.raises(KeyError), db.write() as s:
        insert_rows(s, MEMBERS, ("release_id", "nope"), [("rel-3", 1)])


def test_json_rows_are_read_by_the_database_as_the_same_rows(db: Database) -> None:
    rows = [[f"r{i}", i, "h" * 64, "train" if i % 2 else "test"] for i in (1, 2, 3)]
    with db.write() as s:
        s.add(_release("rel-4"))
        insert_json_rows(
            s, MEMBERS, COLUMNS[1:], orjson.dumps(rows).decode(), fixed=[("release_id", "rel-4")]
        )
    with db.read() as s:
        stored = s.execute(select(*MEMBERS.c[1:]).order_by(MEMBERS.c.record_id)).all()
    assert [list(r) for r in stored] == rows  # the version back as an integer on both databases


def test_json_rows_duplicate_raises_sqlalchemys_integrity_error(db: Database) -> None:
    with pytest.raises(exc.IntegrityError), db.write() as s:
        s.add(_release("rel-5"))
        insert_json_rows(
            s,
            MEMBERS,
            COLUMNS[1:],
            '[["r1",1,"h","train"],["r1",1,"h","test"]]',
            fixed=[("release_id", "rel-5")],
        )


def test_json_rows_never_cut_a_value_longer_than_its_column(db: Database) -> None:
    """PostgreSQL refuses it (as any insert would); SQLite, which has no lengths, keeps it whole."""
    long_split = "validation-and-more"  # the split column holds 16 characters
    try:
        with db.write() as s:
            s.add(_release("rel-6"))
            insert_json_rows(
                s,
                MEMBERS,
                COLUMNS[1:],
                orjson.dumps([["r1", 1, "h", long_split]]).decode(),
                fixed=[("release_id", "rel-6")],
            )
    except exc.DataError:
        assert db.engine.dialect.name == "postgresql"
        return
    with db.read() as s:
        assert s.scalar(select(MEMBERS.c.split)) == long_split
