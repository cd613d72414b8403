"""JSON Schema of the data standard, for contributors' own validators."""

from __future__ import annotations

from typing import Any

from qianmo.standard._content import CONTENT_MODELS
from qianmo.standard._record import STANDARD_VERSION, Record


def json_schema() -> dict[str, Any]:
    """The record schema, with each kind's content schema under `$defs` and an `allOf` switch."""
    schema = Record.model_json_schema()
    defs = schema.setdefault("$defs", {})
    branches = []
    for kind, model in CONTENT_MODELS.items():
        name = model.__name__
        sub = model.model_json_schema()
        defs.update(sub.pop("$defs", {}))
        defs[name] = sub
        branches.append(
            {
                "if": {"properties": {"kind": {"const": kind.value}}},
                "then": {"properties": {"content": {"$ref": f"#/$defs/{name}"}}},
            }
        )
    schema["allOf"] = branches
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://qianmo.dev/schema/record-v{STANDARD_VERSION}.json"
    schema["title"] = f"qianmo record (data standard v{STANDARD_VERSION})"
    return schema
