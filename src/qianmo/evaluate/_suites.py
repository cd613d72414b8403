"""Suites: a versioned, frozen set of accepted MCQ and QA items in the store's suite tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qianmo.errors import NotFound, QianmoError
from qianmo.evaluate._items import Item
from qianmo.standard import new_id
from qianmo.store import Database, RecordFilter, RecordRow, SuiteItemRow, SuiteRow, audit

SUITE_KINDS = ("mcq", "qa")


@dataclass(frozen=True)
class SuiteInfo:
    id: str
    name: str
    version: int
    items: int
    filters: list[str]
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "created_at": self.created_at.isoformat()}


def _item_data(row: RecordRow) -> dict[str, Any]:
    data = row.data
    return {
        "content": data["content"],
        "refs": {k: v for k, v in data.get("refs", {}).items() if v},
        "flags": sorted(data.get("quality", {}).get("flags", {})),
        "source": row.source_name,
    }


def create_suite(
    db: Database, name: str, flt: RecordFilter, *, limit: int | None = None, actor: str
) -> SuiteInfo:
    """Freeze the accepted MCQ/QA records `flt` selects (in id order) as the next version."""
    if not name.strip():
        raise QianmoError("a suite needs a name", field="name")
    query = (
        select(RecordRow)
        .where(RecordRow.status == "accepted", RecordRow.kind.in_(SUITE_KINDS))
        .order_by(RecordRow.id)
    )
    query = flt.apply(query)
    if limit is not None:
        query = query.limit(limit)
    with db.write() as s:
        rows = list(s.execute(query).scalars())
        if not rows:
            raise QianmoError(
                "no accepted mcq or qa records match " + (" ".join(flt.to_list()) or "(all)"),
                field="filter",
            )
        latest = s.execute(select(func.max(SuiteRow.version)).where(SuiteRow.name == name))
        version = (latest.scalar() or 0) + 1
        suite = SuiteRow(
            id=new_id(),
            name=name,
            version=version,
            filters=flt.to_list(),
            config={"limit": limit, "items": len(rows)},
            actor=actor,
        )
        s.add(suite)
        s.flush()
        s.add_all(
            SuiteItemRow(
                suite_id=suite.id,
                position=i,
                record_id=row.id,
                record_version=row.version,
                kind=row.kind,
                domain=row.domain,
                lang=row.lang,
                published_at=row.published_at,
                data=_item_data(row),
            )
            for i, row in enumerate(rows)
        )
        audit(
            s, actor=actor, action="eval.suite.create", object_type="suite", object_ids=[suite.id]
        )
        return SuiteInfo(suite.id, name, version, len(rows), suite.filters, suite.created_at)


def _info(s: Session, suite: SuiteRow) -> SuiteInfo:
    count = s.execute(
        select(func.count()).select_from(SuiteItemRow).where(SuiteItemRow.suite_id == suite.id)
    ).scalar_one()
    return SuiteInfo(suite.id, suite.name, suite.version, count, suite.filters, suite.created_at)


def list_suites(db: Database) -> list[SuiteInfo]:
    with db.read() as s:
        suites = s.execute(select(SuiteRow).order_by(SuiteRow.name, SuiteRow.version)).scalars()
        return [_info(s, suite) for suite in suites]


def get_suite(db: Database, ref: str) -> SuiteInfo:
    """A suite by `NAME` (its latest version), `NAME@VERSION` or id."""
    name, _, version = ref.partition("@")
    query = select(SuiteRow).where((SuiteRow.name == name) | (SuiteRow.id == name))
    if version:
        if not version.isdigit():
            raise QianmoError(f"{ref!r}: the version after @ is a number", field="suite")
        query = query.where(SuiteRow.version == int(version))
    with db.read() as s:
        suite = s.execute(query.order_by(SuiteRow.version.desc()).limit(1)).scalar_one_or_none()
        if suite is None:
            raise NotFound(f"no suite {ref!r} (see `qianmo eval suites`)", field="suite")
        return _info(s, suite)


def suite_items(db: Database, suite_id: str) -> list[Item]:
    # Columns, not ORM objects: identity-mapped rows cost ~0.3 ms each to load (2,500 items).
    cols = (
        SuiteItemRow.position,
        SuiteItemRow.record_id,
        SuiteItemRow.kind,
        SuiteItemRow.lang,
        SuiteItemRow.data,
        SuiteItemRow.domain,
        SuiteItemRow.published_at,
    )
    with db.read() as s:
        rows = s.execute(
            select(*cols).where(SuiteItemRow.suite_id == suite_id).order_by(SuiteItemRow.position)
        ).all()
        return [
            Item(
                position=r.position,
                record_id=r.record_id,
                kind=r.kind,
                lang=r.lang,
                content=r.data["content"],
                domain=r.domain,
                published_at=r.published_at,
                flags=tuple(r.data.get("flags", ())),
                refs=r.data.get("refs", {}),
            )
            for r in rows
        ]


def suite_record_ids(db: Database, suite_id: str) -> set[str]:
    with db.read() as s:
        return set(
            s.execute(
                select(SuiteItemRow.record_id).where(SuiteItemRow.suite_id == suite_id)
            ).scalars()
        )
