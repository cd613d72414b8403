"""One row to one record: apply the mapping, fill what the row lacks, validate it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from qianmo.ingest._mapping import Mapping, nest
from qianmo.ingest._registry import Row
from qianmo.standard import FieldProblem, Record, RecordInvalid, utcnow, validate_record


@dataclass(frozen=True)
class Defaults:
    """`--source`, `--org`, `--license`, `--tlp`, `--classification`: for what rows lack."""

    source: str
    org: str | None = None
    license: str | None = None
    tlp: str | None = None
    classification: str | None = None

    def fill(self, data: dict[str, Any]) -> None:
        src = data.get("source")
        if src is None or isinstance(src, dict):
            # A copy: the row itself stays as it was sent, for a rejection to keep.
            src = data["source"] = dict(src or {})
            for key, value in (
                ("name", self.source),
                ("org", self.org),
                ("license", self.license),
                ("tlp", self.tlp),
            ):
                if value is not None and src.get(key) in (None, ""):
                    src[key] = value
        if self.classification is not None and data.get("classification") in (None, ""):
            data["classification"] = self.classification


def raw_text(row: Row) -> str:
    """The row as it was sent, kept with a rejection so nothing is lost."""
    if row.raw is not None:
        return row.raw
    return orjson.dumps(row.data, default=str).decode()


def _record_dict(row: Row, mapping: Mapping | None) -> tuple[dict[str, Any], list[FieldProblem]]:
    assert row.data is not None
    if mapping is not None:
        return mapping.apply(row.data)
    return nest(dict(row.data)), []


def build_record(
    row: Row, mapping: Mapping | None, defaults: Defaults, import_id: str
) -> Record | list[FieldProblem]:
    """The row's record, or every problem that keeps it from being one."""
    if row.data is None:
        return [FieldProblem("", row.problem or "unreadable")]
    data, problems = _record_dict(row, mapping)
    if problems:
        return problems
    defaults.fill(data)
    # An import starts a record's life: raw and version 1, whatever an earlier system said.
    data["status"], data["version"] = "raw", 1
    data.pop("status_reason", None)
    lineage = data.get("lineage") or {}
    if isinstance(lineage, dict) and isinstance(lineage.get("steps") or [], list):
        step = {"type": "import", "name": import_id, "at": utcnow(), "detail": {"where": row.where}}
        data["lineage"] = {**lineage, "steps": [*(lineage.get("steps") or []), step]}
    try:
        return Record.model_validate(data)
    except ValidationError:
        pass  # validate again the slow way, for problems that name their field plainly
    try:
        return validate_record(data)
    except RecordInvalid as e:
        return e.problems
