"""Turn pydantic's errors into `FILE:LINE: field: reason` problems users can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from qianmo.errors import QianmoError
from qianmo.standard._content import CONTENT_MODELS
from qianmo.standard._levels import Kind
from qianmo.standard._record import Record


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class RecordInvalid(QianmoError):
    """A row that does not meet the data standard, with every problem found."""

    def __init__(self, problems: list[FieldProblem], **where: Any) -> None:
        self.problems = problems
        first = problems[0] if problems else FieldProblem("", "invalid")
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first.reason}{more}", field=first.field or None, **where)


def _problems(err: ValidationError, prefix: str = "") -> list[FieldProblem]:
    out: list[FieldProblem] = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        # model-level validators name their field as "field: reason"
        if ": " in msg and not loc and msg.split(": ", 1)[0].isidentifier():
            loc, msg = msg.split(": ", 1)
        if e["type"] == "extra_forbidden":
            msg = "is not a field of the data standard"
        elif e["type"] == "missing":
            msg = "is required"
        field = ".".join(p for p in (prefix, loc) if p)
        out.append(FieldProblem(field, msg))
    return out


def validate_record(data: dict[str, Any]) -> Record:
    """Validate one record; raise `RecordInvalid` naming every bad field and why."""
    kind = data.get("kind")
    if kind not in {k.value for k in Kind}:
        allowed = ", ".join(k.value for k in Kind)
        reason = "is required" if kind is None else f"{kind!r} is not a kind ({allowed})"
        raise RecordInvalid([FieldProblem("kind", reason)])
    content = data.get("content")
    if not isinstance(content, dict):
        raise RecordInvalid([FieldProblem("content", "must be an object")])
    try:
        return Record.model_validate(data)
    except ValidationError as record_error:
        # Only a failing row pays for a second look: the content model alone names the
        # `content.*` field, where the record's own check can only say that content is bad.
        try:
            CONTENT_MODELS[Kind(kind)].model_validate(content)
        except ValidationError as e:
            raise RecordInvalid(_problems(e, "content")) from e
        raise RecordInvalid(_problems(record_error)) from record_error
