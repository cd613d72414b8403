"""New versions of records edited where they were read (quality workers), written cheaply.

A quality run's first pass gives nearly every record a new version, and the driver's single
writer was then as costly as all the steps together (profiled at 100,000 records: the row
dicts, SQLAlchemy's per-row parameter processing, the document serialised once for the
records row and again for its version row, and an UPDATE naming columns that had not
changed). So the worker that edited a record hands over an `Edit`: the document already
serialised, numbered as the next version, and only the row columns that differ from the
row it read. The driver checks that the stored version is still the one the edit started
from and writes every edit of a page with one prepared UPDATE per set of changed columns and
one INSERT of the version rows, on the driver's cursor. A record whose stored version moved
on meanwhile goes the general way (`write_version_rows`), as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, Integer, Select, String, insert, select, update
from sqlalchemy.orm import Session

from qianmo.standard import Record, utcnow
from qianmo.store._models import RecordRow, RecordVersionRow
from qianmo.store._prepared import Prepared, PreparedCache, arg
from qianmo.store._records import (
    MIRRORED_COLUMNS,
    _expire_loaded,
    audit_versions,
    ids_in,
    ids_statement,
    mirrored_values,
    row_values,
    search_text,
    write_version_rows,
)

_RECORDS = RecordRow.metadata.tables["records"]
_VERSIONS = RecordVersionRow.metadata.tables["record_versions"]
CHUNK = 500  # ids per IN list: within every backend's limit on bound parameters


def _search_key(record: Record) -> tuple[Any, ...]:
    """What the search text is made of (`search_text`): content (its hash follows every edit,
    which steps make through `map_text`), references and tags."""
    refs = record.refs
    return (
        record.content_hash,
        tuple(refs.cve),
        tuple(refs.cwe),
        tuple(refs.capec),
        tuple(refs.attack),
        tuple(record.tags),
    )


@dataclass(frozen=True)
class Snapshot:
    """A record's row columns as read, to tell later which of them an edit changed."""

    version: int
    columns: tuple[Any, ...]
    search: tuple[Any, ...]

    @classmethod
    def of(cls, record: Record) -> Snapshot:
        return cls(record.version, mirrored_values(record), _search_key(record))


@dataclass
class Edit:
    """An edited record ready to be stored as version `base + 1`: its document as JSON text
    (already carrying that version number) and the row columns that changed."""

    id: str
    base: int
    data: str
    content_hash: str
    columns: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, record: Record, before: Snapshot) -> Edit:
        now = mirrored_values(record)
        changed = {
            name: value
            for name, old, value in zip(MIRRORED_COLUMNS, before.columns, now, strict=True)
            if old != value
        }
        if _search_key(record) != before.search:
            changed["search_text"] = search_text(record)
        base = before.version
        record.version = base + 1
        try:
            data = record.model_dump_json()
        finally:
            record.version = base
        return cls(record.id, base, data, record.content_hash, changed)


_UPDATES = PreparedCache(64)
_TYPES = {c.name: c.type for c in _RECORDS.columns}


def _update(columns: tuple[str, ...]) -> Prepared:
    def build() -> Any:
        # the document is JSON text already: passed as it is (`raw`), no second serialising
        values: dict[str, Any] = {
            "data": arg("p_data"),
            "version": arg("p_version", Integer()),
            "updated_at": arg("p_updated_at", DateTime(timezone=True)),
        }
        values.update({c: arg(f"p_{c}", _TYPES[c]) for c in columns})
        return update(_RECORDS).where(_RECORDS.c.id == arg("p_id", String())).values(values)

    return _UPDATES.get(columns, build, raw=("p_data",))


_ADD_VERSION = Prepared(
    insert(_VERSIONS).values(
        record_id=arg("p_id", String()),
        version=arg("p_version", Integer()),
        content_hash=arg("p_hash", String()),
        data=arg("p_data"),
        actor=arg("p_actor", String()),
        change=arg("p_change", String()),
        created_at=arg("p_at", DateTime(timezone=True)),
    ),
    raw=("p_data",),
)


# One statement per IN-list length (a page's chunks are mostly CHUNK long).
_VERSIONS_HELD = PreparedCache(16)


def _versions_of(n: int) -> Select[Any]:
    return select(_RECORDS.c.id, _RECORDS.c.version).where(ids_in(_RECORDS.c.id, n))


def _stored_versions(session: Session, ids: list[str]) -> dict[str, int]:
    """Stored version of each id held (ids and integers need no type processing)."""
    found: dict[str, int] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        held, args = ids_statement(_VERSIONS_HELD, _versions_of, chunk)
        found.update(held.run(session.connection(), args).rows)
    return found


def write_edits(session: Session, edits: Sequence[Edit], *, actor: str, change: str) -> None:
    """Store each edit as its record's next version (one per record), without an audit
    entry: for callers that write one for a larger set."""
    if not edits:
        return
    if session.autoflush:
        session.flush()  # the rows may have been added in this transaction
    conn = session.connection()
    stored = _stored_versions(session, [e.id for e in edits])
    at = utcnow()
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    versions: list[dict[str, Any]] = []
    moved: list[Edit] = []
    for edit in edits:
        version = stored.get(edit.id)
        if version != edit.base:  # gone, or edited by someone else since it was read
            moved.append(edit)
            continue
        values = {f"p_{k}": v for k, v in edit.columns.items()}
        values.update(p_id=edit.id, p_data=edit.data, p_version=version + 1, p_updated_at=at)
        groups.setdefault(tuple(sorted(edit.columns)), []).append(values)
        versions.append(
            {
                "p_id": edit.id,
                "p_version": version + 1,
                "p_hash": edit.content_hash,
                "p_data": edit.data,
                "p_actor": actor,
                "p_change": change,
                "p_at": at,
            }
        )
    for columns, rows in groups.items():
        _update(columns).run_many(conn, rows)
    _ADD_VERSION.run_many(conn, versions)
    if moved:
        rows = [row_values(Record.model_validate_json(e.data)) for e in moved]
        write_version_rows(session, rows, actor=actor, change=change)
    _expire_loaded(session, {e.id for e in edits})


def store_edits(session: Session, edits: Sequence[Edit], *, actor: str, change: str) -> int:
    """`write_edits` under one audit entry; returns how many versions were written."""
    if not edits:
        return 0
    write_edits(session, edits, actor=actor, change=change)
    return audit_versions(session, [e.id for e in edits], actor=actor, change=change)
