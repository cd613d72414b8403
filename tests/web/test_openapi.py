"""schemathesis against /api/v1/openapi.json with a signed-in client: no 5xx, and every
answer matches the schema (status code, content type, body). Examples are capped."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qianmo.store import Database, add_records, create_token
from tests.helpers.records import make_record

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


MAX_EXAMPLES = 3


def test_api_conforms_to_its_schema(app: FastAPI, db: Database) -> None:
    with db.write() as s:
        add_records(s, [make_record(source={"org": "org-a"}) for _ in range(3)], actor="t")
        _, secret = create_token(s, "a-admin", actor="t")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
