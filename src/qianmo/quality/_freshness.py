"""`freshness`: the `stale` flag — timeliness, one of the three things security LLMs get wrong.

A record is stale when the day its facts held (`valid_as_of`, else `published_at`) is older
than the age configured for it — for its subdomain, else its top-level domain, else its kind,
else `default` — or when the record it was derived from (its lineage parent) was withdrawn:
its data was superseded upstream. A stale record is flagged, not dropped (an old advisory
still teaches; releases and suites can filter on the flag), and the flag goes again when a
newer version makes the record fresh. Records without either date are never called stale.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.quality._step import Step, StepOptions, Verdict, register_step, set_flag
from qianmo.standard import Record, Status
from qianmo.store import RecordRow

_OURS = ("age", "superseded")  # reasons this step sets (sync sets its own, on withdrawn items)


class FreshnessOptions(StepOptions):
    max_age_days: dict[str, int] = Field(
        default_factory=dict,
        description="domain (`vuln.web`, `vuln`), kind (`qa`) or `default` → days",
    )
    as_of: date | None = Field(None, description="the day ages are counted to (default: today)")


def _rule(record: Record, table: dict[str, int]) -> tuple[str, int] | None:
    keys = []
    if record.domain:
        keys += [record.domain, record.domain.split(".", 1)[0]]
    keys += [record.kind.value, "default"]
    return next(((k, table[k]) for k in keys if k in table), None)


def _age_flag(record: Record, options: FreshnessOptions) -> dict[str, Any] | None:
    rule = _rule(record, options.max_age_days)
    basis = "valid_as_of" if record.valid_as_of else "published_at"
    when: datetime | None = record.valid_as_of or record.published_at
    if rule is None or when is None:
        return None
    today = options.as_of or datetime.now(UTC).date()
    if when.date() >= today - timedelta(days=rule[1]):
        return None
    return {
        "resolved": False,
        "reason": "age",
        "basis": basis,
        "date": when.date().isoformat(),
        "rule": rule[0],
        "max_age_days": rule[1],
    }


@register_step
class Freshness(Step):
    name = "freshness"
    Options = FreshnessOptions

    def prepare(self, session: Session) -> Any:
        # ids only: the withdrawn records others may have been derived from
        query = select(RecordRow.id).where(RecordRow.status == Status.WITHDRAWN.value)
        return frozenset(session.execute(query).scalars())

    def process(self, record: Record) -> Verdict:
        options = self.options
        assert isinstance(options, FreshnessOptions)
        withdrawn = self.state or frozenset()
        gone = sorted(p for p in record.lineage.parents if p in withdrawn)
        flag = (
            {"resolved": False, "reason": "superseded", "parents": gone}
            if gone
            else _age_flag(record, options)
        )
        old = record.quality.flags.get("stale")
        if flag is None:
            if old is not None and old.get("reason") in _OURS:
                del record.quality.flags["stale"]
                return Verdict(changed=True, detail={"fresh": True})
            return Verdict(flags=("stale",) if old else ())
        changed = set_flag(record, "stale", flag)
        detail = {k: flag[k] for k in ("reason", "date", "rule") if k in flag}
        return Verdict(changed=changed, flags=("stale",), detail=detail)
