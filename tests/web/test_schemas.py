"""Public shapes built from stored documents equal those built from validated records."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qianmo.store import Database, RecordRow, add_records, to_record
from qianmo.web._schemas import RecordPublic
from tests.helpers.records import make_record


@pytest.mark.parametrize("kind", ["document", "qa", "mcq"])
def test_a_record_from_its_stored_document_equals_it_from_the_record(
    db: Database, kind: str
) -> None:
    # a claim's task sends the stored document without validating it again
    sparse = make_record(kind)
    full = make_record(kind, domain="vuln.web", source={"org": "org-a", "tlp": "AMBER"})
    with db.write() as s:
        add_records(s, [sparse, full], actor="test")
    with db.read() as s:
        stored = s.execute(select(RecordRow.data)).scalars().all()
    assert len(stored) == 2
    for data in stored:
        assert (
            RecordPublic.of_data(data).model_dump() == RecordPublic.of(to_record(data)).model_dump()
        )
