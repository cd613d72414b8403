"""A release check decides on views read straight from stored JSON: they must decide exactly as
the validated `Record` does, for every case of the decision table."""

from __future__ import annotations

from typing import Any

import pytest

from qianmo.circulate import RecordView, decide
from qianmo.standard import Record
from tests.circulate.test_decide import CASES
from tests.helpers.circulate import accepted, request


@pytest.mark.parametrize(("case", "rec", "req", "expected"), CASES, ids=[c[0] for c in CASES])
def test_view_from_stored_json_decides_as_the_record(
    case: str, rec: dict[str, Any], req: dict[str, Any], expected: str
) -> None:
    record, release = accepted(**rec), request(**req)
    stored = RecordView.from_data(record.to_json())
    assert stored == RecordView.from_record(record)
    assert decide(stored, release) == decide(record, release)


def test_view_from_json_fills_the_record_defaults() -> None:
    minimal = {"id": "r1", "kind": "document", "content": {"text": "x"}, "source": {"name": "s"}}
    record = Record.model_validate(minimal)
    view = RecordView.from_data(minimal)
    assert (view.status, view.tlp, view.license, view.personal_info, view.classification) == (
        record.status.value,
        record.source.tlp.value,
        record.source.license,
        record.personal_info.value,
        record.classification.value,
    )
    assert view.lang == record.lang and view.version == record.version
