"""`KEY=VALUE` selections over records, shared by listings, releases, suites and campaigns."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, or_

from qianmo.errors import QianmoError
from qianmo.store._models import RecordRow

_COLUMNS: dict[str, Any] = {
    "id": RecordRow.id,
    "kind": RecordRow.kind,
    "lang": RecordRow.lang,
    "status": RecordRow.status,
    "org": RecordRow.org,
    "source": RecordRow.source_name,
    "tlp": RecordRow.tlp,
    "license": RecordRow.license,
    "classification": RecordRow.classification,
    "personal_info": RecordRow.personal_info,
    "import": RecordRow.import_id,
    "root": RecordRow.lineage_root,
}


def _domain(values: list[str]) -> ColumnElement[bool]:
    # `domain=vuln` selects the top-level domain and all its subdomains
    return or_(*[or_(RecordRow.domain == v, RecordRow.domain.like(f"{v}.%")) for v in values])


def _json_list_has(path: tuple[str, ...]) -> Callable[[list[str]], ColumnElement[bool]]:
    def cond(values: list[str]) -> ColumnElement[bool]:
        text = RecordRow.data[path if len(path) > 1 else path[0]].as_string()
        return or_(*[text.contains(f'"{v}"') for v in values])

    return cond


def _bool(values: list[str]) -> ColumnElement[bool]:
    truth = values[0].lower() in {"1", "true", "yes"}
    return RecordRow.eval_only.is_(truth)


def _date(op: str) -> Callable[[list[str]], ColumnElement[bool]]:
    def cond(values: list[str]) -> ColumnElement[bool]:
        try:
            when = datetime.fromisoformat(values[0])
        except ValueError as e:
            raise QianmoError(f"{values[0]!r} is not a date", field=op) from e
        column = RecordRow.published_at
        return column >= when if op == "published_after" else column < when

    return cond


_SPECIAL: dict[str, Callable[[list[str]], ColumnElement[bool]]] = {
    "domain": _domain,
    "tag": _json_list_has(("tags",)),
    "cve": _json_list_has(("refs", "cve")),
    "cwe": _json_list_has(("refs", "cwe")),
    "attack": _json_list_has(("refs", "attack")),
    "eval_only": _bool,
    "published_after": _date("published_after"),
    "published_before": _date("published_before"),
}

FILTER_KEYS = sorted([*_COLUMNS, *_SPECIAL])


@dataclass(frozen=True)
class RecordFilter:
    """Conditions ANDed together; a comma in a value means any of those values."""

    terms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str]) -> RecordFilter:
        terms: list[tuple[str, tuple[str, ...]]] = []
        for item in items:
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not key or not value.strip():
                raise QianmoError(f"{item!r}: write KEY=VALUE", field="filter")
            if key not in _COLUMNS and key not in _SPECIAL:
                keys = ", ".join(FILTER_KEYS)
                raise QianmoError(f"unknown filter key {key!r} (one of: {keys})", field="filter")
            terms.append((key, tuple(v.strip() for v in value.split(",") if v.strip())))
        return cls(tuple(terms))

    @classmethod
    def of(cls, **kwargs: str | None) -> RecordFilter:
        return cls.parse(f"{k}={v}" for k, v in kwargs.items() if v)

    def to_list(self) -> list[str]:
        return [f"{k}={','.join(v)}" for k, v in self.terms]

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for key, values in self.terms:
            if key in _SPECIAL:
                out.append(_SPECIAL[key](list(values)))
            else:
                out.append(_COLUMNS[key].in_(values))
        return out

    def apply(self, query: Select[Any]) -> Select[Any]:
        for cond in self.conditions():
            query = query.where(cond)
        return query
