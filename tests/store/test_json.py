"""Values picked out of stored JSON by the database, as a release check reads them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import select

from qianmo.store import Database, RecordRow, add_records, json_values
from tests.helpers.records import make_record


def _list(value: Any) -> Any:
    """SQLite answers text, PostgreSQL's driver the parsed list."""
    return orjson.loads(value) if isinstance(value, str) else value


def test_picks_the_values_at_several_paths_or_one(db: Database) -> None:
    record = make_record(
        "document",
        restrictions=["use:commercial"],
        lineage={"root": "CVE-2024-1", "steps": [{"type": "annotation", "name": "x"}]},
    )
    with db.write() as s:
        add_records(s, [record], actor="test")
    with db.read() as s:
        data = RecordRow.data
        paths = ["kind", "source.license", "restrictions", "no.such.path", "lineage.steps"]
        many, one = s.execute(
            select(json_values(s, data, paths), json_values(s, data, ["restrictions"])).where(
                RecordRow.id == record.id
            )
        ).one()
    kind, lic, restrictions, missing, steps = _list(many)
    assert (kind, lic, restrictions, missing) == (
        "document",
        record.source.license,
        ["use:commercial"],
        None,
    )
    assert [step["type"] for step in steps] == ["annotation"]
    assert _list(one) == [["use:commercial"]]


@pytest.mark.parametrize("path", ["a'b", "a..b", "$.a", "a[0]", ""])
def test_only_plain_dotted_paths_are_written_into_sql(db: Database, path: str) -> None:
    with db.read() as s, pytest.raises(ValueError, match="dotted JSON path"):
        json_values(s, RecordRow.data, [path])
