"""A release check decides on views made of a stored record's row columns (read from the
database, or here from the row a record is written as): they must decide exactly as the validated
`Record` does, for every case of the decision table, and a check that decides each distinct input
once must agree with `decide()`."""

from __future__ import annotations

from typing import Any

import pytest

from qianmo.circulate import RecordView, decide, evaluate
from qianmo.circulate._picked import iter_picked
from qianmo.circulate._view import PICKED_COLUMNS, picked_key
from qianmo.standard import Record
from qianmo.store import Database, RecordFilter, add_records, row_values
from tests.circulate.test_decide import CASES
from tests.helpers.circulate import accepted, add_orgs, request


@pytest.mark.parametrize(("case", "rec", "req", "expected"), CASES, ids=[c[0] for c in CASES])
def test_view_from_stored_json_decides_as_the_record(
    case: str, rec: dict[str, Any], req: dict[str, Any], expected: str
) -> None:
    record, release = accepted(**rec), request(**req)
    stored = RecordView.from_values(record.id, _picked(record))
    assert stored == RecordView.from_record(record)
    assert decide(stored, release) == decide(record, release)


def test_view_from_a_minimal_record_has_the_record_defaults() -> None:
    minimal = {"id": "r1", "kind": "document", "content": {"text": "x"}, "source": {"name": "s"}}
    record = Record.model_validate(minimal)
    assert RecordView.from_values("r1", _picked(record)) == RecordView.from_record(record)


def test_flags_enter_a_view_only_by_name_and_marks() -> None:
    """Positions and clusters differ from record to record; a view keeps what decisions read."""
    flags = {
        "pii": {"resolved": True, "redacted": False, "spans": [[1, 4]]},
        "duplicate": {"cluster": "c7", "representative": "r0"},
    }
    record = accepted(quality={"score": 0.5, "flags": flags})
    view = RecordView.from_values(record.id, _picked(record))
    assert view.flags == {"pii": {"resolved": True, "redacted": False}, "duplicate": {}}
    assert view == RecordView.from_record(record)


def _picked(record: Record) -> tuple[Any, ...]:
    row = row_values(record)
    return tuple(row[c] for c in PICKED_COLUMNS)


@pytest.fixture
def stored(db: Database) -> list[Record]:
    add_orgs(db)
    records = [accepted(**rec) for _, rec, _, _ in CASES]
    with db.write() as s:
        add_records(s, records, actor="test")
    return records


def test_values_picked_by_the_database_make_the_records_view(
    db: Database, stored: list[Record]
) -> None:
    with db.read() as s:
        pages = list(iter_picked(s, RecordFilter.parse(())))
    views = {
        rid: RecordView.from_values(rid, values)
        for ids, picked in pages
        for rid, values in zip(ids, picked, strict=True)
    }
    assert len(views) == len(stored)
    for record in stored:
        assert views[record.id] == RecordView.from_record(record)
        assert views[record.id] == RecordView.from_values(record.id, _picked(record))
        assert picked_key(_picked(record)) == picked_key(
            next(v for ids, p in pages for i, v in zip(ids, p, strict=True) if i == record.id)
        )


def test_a_check_decides_every_record_as_decide_does(db: Database, stored: list[Record]) -> None:
    """A check decides each distinct picked key once: no two records that decide differently
    may share one, whatever the request."""
    requests = {repr(sorted(req.items())): req for _, _, req, _ in CASES}
    for req in requests.values():
        report = evaluate(db, request(**req))
        allowed = {m.id: m.train for m in report.members}
        denied = {d.id: (d.rule, d.reason) for d in report.denied}
        assert len(allowed) + len(denied) == len(stored)
        for record in stored:
            verdict = decide(record, report.request)
            if verdict.allowed:
                assert allowed[record.id] == verdict.train
            else:
                assert denied[record.id] == (verdict.rule, verdict.reason)


@pytest.mark.parametrize(("case", "rec", "req", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_picked_key_leaves_out_only_what_decide_never_reads(
    case: str, rec: dict[str, Any], req: dict[str, Any], expected: str
) -> None:
    record, release = accepted(**rec), request(**req)
    values = _picked(record)
    other = (7, "another-hash", 0.123, "another-root", "another-cluster", *values[5:])
    assert picked_key(values) == picked_key(other)
    view = RecordView.from_values("another-id", other)
    assert decide(view, release) == decide(record, release)
