"""Values picked out of stored JSON by the database, as a release check reads them."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select

from qianmo.store import (
    Database,
    RecordRow,
    add_records,
    json_item_values,
    json_length,
    json_values,
)
from tests.helpers.records import make_record


def test_picks_values_paths_lengths_and_item_keys(db: Database) -> None:
    record = make_record(
        "document",
        restrictions=["use:commercial"],
        lineage={"parents": ["a", "b"], "steps": [{"type": "annotation", "name": "x"}]},
    )
    with db.write() as s:
        add_records(s, [record], actor="test")
    with db.read() as s:
        data = RecordRow.data
        query = select(
            json_values(s, data, ["kind", "source.license", "restrictions", "no.such.path"]),
            json_length(s, data, "lineage.parents"),
            json_item_values(s, data, "lineage.steps", "type"),
        ).where(RecordRow.id == record.id)
        values, parents, types = s.execute(query).one()
    loads = orjson.loads
    assert (loads(values) if isinstance(values, str) else values) == [
        "document",
        record.source.license,
        ["use:commercial"],
        None,
    ]
    assert parents == 2
    assert (loads(types) if isinstance(types, str) else types) == ["annotation"]


@pytest.mark.parametrize("path", ["a'b", "a..b", "$.a", "a[0]", ""])
def test_only_plain_dotted_paths_are_written_into_sql(db: Database, path: str) -> None:
    with db.read() as s, pytest.raises(ValueError, match="dotted JSON path"):
        json_values(s, RecordRow.data, [path])
