"""Reading and writing records: versions, lineage, status changes, listings and statistics."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from sqlalchemy import ClauseElement, Select, String, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from qianmo.errors import NotFound, QianmoError
from qianmo.standard import LineageStep, Record, Status, utcnow
from qianmo.store._access import Viewer, access_params, visible_condition
from qianmo.store._audit import audit
from qianmo.store._filters import RecordFilter
from qianmo.store._listing import listing_query, viewer_key
from qianmo.store._models import RecordRow, RecordVersionRow
from qianmo.store._policy import dup_cluster, policy_inputs
from qianmo.store._prepared import Prepared, PreparedCache, arg


def search_text(record: Record) -> str:
    ids = [*record.refs.cve, *record.refs.cwe, *record.refs.capec, *record.refs.attack]
    return "\n".join([record.text(), " ".join(ids), " ".join(record.tags)])


# The records-row columns mirrored from the document that an edit may change (the row's id,
# version, import id, times, document and search text aside). A new version's UPDATE leaves
# them out when unchanged, since SQLite maintains the index entries of every column an UPDATE
# names, changed or not (the records table has a dozen indexes).
MIRRORED_COLUMNS = (
    "kind",
    "lang",
    "domain",
    "status",
    "org",
    "source_name",
    "original_id",
    "license",
    "tlp",
    "classification",
    "personal_info",
    "eval_only",
    "content_hash",
    "lineage_root",
    "quality_score",
    "published_at",
    "policy_inputs",
    "dup_cluster",
)
# ... and naming search_text fires the full-text trigger.
_MAYBE_SAME = (*MIRRORED_COLUMNS, "search_text")


def row_values(record: Record, *, import_id: str | None = None) -> dict[str, Any]:
    """The records-table row for a record: filter columns plus the full JSON document."""
    row = dict(zip(MIRRORED_COLUMNS, mirrored_values(record), strict=True))
    row.update(
        id=record.id,
        version=record.version,
        import_id=import_id,
        data=record.to_json(),
        search_text=search_text(record),
        updated_at=utcnow(),
    )
    return row


def mirrored_values(record: Record) -> tuple[Any, ...]:
    """The values of `MIRRORED_COLUMNS` for a record, in that order."""
    source = record.source
    return (
        record.kind.value,
        record.lang,
        record.domain,
        record.status.value,
        source.org,
        source.name,
        source.original_id,
        source.license,
        source.tlp.value,
        record.classification.value,
        record.personal_info.value,
        record.eval_only,
        record.content_hash,
        record.lineage.root,
        record.quality.score,
        record.published_at,
        policy_inputs(
            record.restrictions,
            record.quality.flags,
            bool(record.lineage.parents),
            (s.type for s in record.lineage.steps),
        ),
        dup_cluster(record.quality.flags),
    )


def to_record(data: dict[str, Any]) -> Record:
    return Record.model_validate(data)


@dataclass
class AddResult:
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def _existing_keys(session: Session, records: Sequence[Record]) -> tuple[set[Any], set[Any]]:
    """The (source, content hash) and (source, original id) keys of these records already held.

    Content is the key only of records without an original id (`add_records`): a batch of
    source objects, which all have one, needs no look-up by hash. Original ids are asked per
    source name, so the (source_name, original_id) index answers; by original id alone SQLite
    scanned the whole table for every batch (bench/ingest_bench.py at 200k rows: 0.26 of the
    floor's speed before, 0.48 after). Prepared (`ids_statement`): every import batch runs
    them, and on a small batch SQLAlchemy's compiling cost more than the look-up (1.5 → 0.1 ms
    of the ATT&CK sample's import, CPU)."""
    by_hash: set[Any] = set()
    hashes = sorted({r.content_hash for r in records if not r.source.original_id})
    for start in range(0, len(hashes), KEY_CHUNK):
        held, args = ids_statement(_HASHES_HELD, _hashes_of, hashes[start : start + KEY_CHUNK])
        by_hash.update(held.on_session(session, args).rows)
    by_name: dict[str, set[str]] = {}
    for r in records:
        if r.source.original_id:
            by_name.setdefault(r.source.name, set()).add(r.source.original_id)
    by_original: set[Any] = set()
    for name, originals in by_name.items():
        keys = sorted(originals)
        for start in range(0, len(keys), KEY_CHUNK):
            held, args = ids_statement(
                _ORIGINALS_HELD, _originals_of, keys[start : start + KEY_CHUNK]
            )
            by_original.update(held.on_session(session, {"source_name": name, **args}).rows)
    return by_hash, by_original


KEY_CHUNK = 512  # ids a look-up statement carries: within every backend's parameter limit
_HASHES_HELD = PreparedCache(8)
_ORIGINALS_HELD = PreparedCache(8)


def _hashes_of(n: int) -> Any:
    return select(RecordRow.source_name, RecordRow.content_hash).where(
        ids_in(RecordRow.content_hash, n)
    )


def _originals_of(n: int) -> Any:
    return select(RecordRow.source_name, RecordRow.original_id).where(
        RecordRow.source_name == arg("source_name", String()), ids_in(RecordRow.original_id, n)
    )


def add_records(
    session: Session,
    records: Sequence[Record],
    *,
    actor: str,
    import_id: str | None = None,
    action: str = "records.add",
) -> AddResult:
    """Insert new records (version 1) in the caller's transaction, skipping ones already held.

    A record is already held when its source holds the same original id, or, for records
    without one, the same content: ingesting the same file twice adds nothing. Two distinct
    submissions that happen to say the same thing are both kept, for exact dedup to settle
    with a stated reason rather than vanish here.
    """
    result = AddResult()
    if not records:
        return result
    by_hash, by_original = _existing_keys(session, records)
    rows, versions = [], []
    for rec in records:
        key_hash = (rec.source.name, rec.content_hash)
        key_orig = (rec.source.name, rec.source.original_id)
        is_held = key_orig in by_original if rec.source.original_id else key_hash in by_hash
        if is_held:
            result.duplicates.append(rec.id)
            continue
        by_hash.add(key_hash)
        by_original.add(key_orig)
        rows.append(row_values(rec, import_id=import_id))
        versions.append(
            {
                "record_id": rec.id,
                "version": rec.version,
                "content_hash": rec.content_hash,
                "data": rows[-1]["data"],
                "actor": actor,
                "change": action,
            }
        )
        result.added.append(rec.id)
    if rows:
        # Core inserts of the tables: the ORM's bulk path costs more than the rows themselves.
        tables = RecordRow.metadata.tables
        session.execute(insert(tables["records"]), rows)
        session.execute(insert(tables["record_versions"]), versions)
        audit(session, actor=actor, action=action, object_type="record", object_ids=result.added)
    return result


# Opening a record is the commonest read: prepared once per viewer's organisations
# (store/_prepared.py).
_GET = PreparedCache()


def get_record(session: Session, record_id: str, *, viewer: Viewer | None = None) -> Record:
    """One record's current version; NotFound also when the viewer may not see it."""

    def build() -> Select[Any]:
        query = select(RecordRow.data).where(RecordRow.id == arg("id", String()))
        if viewer is None:
            return query
        return query.where(visible_condition(viewer, name_as_arg=True))

    params = {"id": record_id, **access_params(viewer)}
    data = _GET.get(viewer_key(viewer), build).on_session(session, params).scalar()
    if data is None:
        raise NotFound(f"no record {record_id}", object_id=record_id)
    return to_record(data)


def get_versions(session: Session, record_id: str) -> list[Record]:
    rows = session.execute(
        select(RecordVersionRow.data)
        .where(RecordVersionRow.record_id == record_id)
        .order_by(RecordVersionRow.version)
    ).scalars()
    return [to_record(d) for d in rows]


def save_version(
    session: Session, record: Record, *, actor: str, change: str, step: LineageStep | None = None
) -> Record:
    """Store an edited record as a new version; the earlier versions stay readable."""
    data = record.model_dump()
    if step is not None:
        data["lineage"]["steps"].append(step.model_dump())
    new = Record.model_validate(data)
    save_versions(session, [new], actor=actor, change=change)
    return new


def save_versions(session: Session, records: Sequence[Record], *, actor: str, change: str) -> int:
    """Store edited records as new versions: one change set, in a few statements.

    One query reads the current versions, one executemany updates the rows, one insert adds
    the versions and one audit entry covers them all (a quality run changing 100k records
    one at a time spent most of its time in per-record ORM loads, updates and audit entries).
    The records must be valid (as `Record.model_validate` leaves them); each gets its new
    version number in place. The search index is only rewritten for rows whose text changed.
    """
    if not records:
        return 0
    write_versions(session, records, actor=actor, change=change)
    return audit_versions(session, [r.id for r in records], actor=actor, change=change)


def audit_versions(session: Session, ids: list[str], *, actor: str, change: str) -> int:
    """One audit entry for a set of new versions; how many there were."""
    audit(session, actor=actor, action=change, object_type="record", object_ids=ids)
    return len(ids)


def write_versions(session: Session, records: Sequence[Record], *, actor: str, change: str) -> None:
    """`save_versions` without its audit entry, for callers that write one for a larger set.

    Each id may appear once: a record edited twice goes in two calls, one version each.
    """
    versions = write_version_rows(
        session, [row_values(r) for r in records], actor=actor, change=change
    )
    for rec, version in zip(records, versions, strict=True):
        rec.version = version


def write_version_rows(
    session: Session, rows: Sequence[dict[str, Any]], *, actor: str, change: str
) -> list[int]:
    """`write_versions` of `row_values` rows; returns the new version numbers. The rows'
    version, import id and time are set here, from the stored rows."""
    ids = [r["id"] for r in rows]
    table = RecordRow.metadata.tables["records"]  # Core: executemany, no ORM objects
    stored = [table.c.id, table.c.version, table.c.import_id, *(table.c[c] for c in _MAYBE_SAME)]
    current = {row.id: row for row in session.execute(select(*stored).where(table.c.id.in_(ids)))}
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    versions = []
    numbers = []
    at = utcnow()
    for given in rows:
        row = current.get(given["id"])
        if row is None:
            raise NotFound(f"no record {given['id']}", object_id=given["id"])
        version = row.version + 1
        numbers.append(version)
        values = dict(given, version=version, import_id=row.import_id, updated_at=at)
        values["data"] = dict(given["data"], version=version)
        values["b_id"] = values.pop("id")
        for column in _MAYBE_SAME:
            if values.get(column) == getattr(row, column):
                del values[column]
        groups.setdefault(tuple(values), []).append(values)
        versions.append(
            {
                "record_id": values["b_id"],
                "version": version,
                "content_hash": given["content_hash"],
                "data": values["data"],
                "actor": actor,
                "change": change,
            }
        )
    for names, part in groups.items():
        columns: dict[str, Any] = {k: bindparam(k) for k in names if k != "b_id"}
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(columns)
        session.connection().execute(stmt, part)
    session.execute(insert(RecordRow.metadata.tables["record_versions"]), versions)
    _expire_loaded(session, set(ids))
    return numbers


def _expire_loaded(session: Session, ids: set[str]) -> None:
    """Rows written around the ORM: objects the session already holds must reload them."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, RecordRow) and obj.id in ids:
            session.expire(obj)


def set_status(
    session: Session,
    record_ids: Sequence[str],
    status: Status,
    *,
    reason: str | None,
    actor: str,
    action: str = "records.status",
) -> int:
    """Change status in place (not a content edit, so no new version); one audit entry.

    Reads the rows in one query and writes them with one executemany, in slices of 500 ids.
    On SQLite the document is edited in place by `json_set`, without reading it: parsing and
    serialising whole documents to change two fields was most of a quality run's final pass.
    """
    ids = list(dict.fromkeys(record_ids))
    write = _set_status_in_sql if session.get_bind().dialect.name == "sqlite" else _set_status
    at = utcnow()
    for start in range(0, len(ids), 500):
        write(session, ids[start : start + 500], status, reason, at)
    if ids:
        _expire_loaded(session, set(ids))
        audit(session, actor=actor, action=action, object_type="record", object_ids=record_ids)
    return len(ids)


def _set_status(
    session: Session, chunk: list[str], status: Status, reason: str | None, at: Any
) -> None:
    table = RecordRow.metadata.tables["records"]  # Core: executemany, no ORM objects
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(status=bindparam("status"), data=bindparam("data"), updated_at=bindparam("at"))
    )
    query = select(RecordRow.id, RecordRow.data).where(RecordRow.id.in_(chunk))
    found = {row.id: row.data for row in session.execute(query)}
    rows = []
    for rid in chunk:
        if rid not in found:
            raise NotFound(f"no record {rid}", object_id=rid)
        data = dict(found[rid])
        data["status"], data["status_reason"] = status.value, reason
        rows.append({"b_id": rid, "status": status.value, "data": data, "at": at})
    session.connection().execute(stmt, rows)


_IDS_HELD = PreparedCache(16)


def ids_in(column: Any, n: int) -> Any:
    """`column IN (:i0, …)` with n runtime parameters, for a statement prepared once per n."""
    return column.in_([arg(f"i{k}", String()) for k in range(n)])


def id_args(ids: Sequence[str]) -> dict[str, str]:
    return {f"i{k}": rid for k, rid in enumerate(ids)}


def ids_statement(
    cache: PreparedCache, make: Callable[[int], ClauseElement], ids: Sequence[str]
) -> tuple[Prepared, dict[str, str]]:
    """The statement `make(n)` (an `ids_in` list of n) for these ids, and its arguments.

    n is a power of two and the list is padded with a repeat, which IN ignores: a few
    statements serve every chunk size, where one per exact length made a bounded cache churn
    and each new length paid for building and compiling its statement again."""
    size = 1 << max(len(ids) - 1, 0).bit_length()
    padded = [*ids, *[ids[-1]] * (size - len(ids))]
    return cache.get(size, partial(make, size)), id_args(padded)


@cache
def _set_status_statement() -> Prepared:
    """A status change written into the row and its document in one UPDATE (json_set)."""
    table = RecordRow.metadata.tables["records"]
    document = func.json_set(
        table.c.data,
        "$.status",
        arg("p_status", String()),
        "$.status_reason",
        arg("p_reason", String()),
        type_=table.c.data.type,
    )
    return Prepared(
        update(table)
        .where(table.c.id == arg("p_id", String()))
        .values(
            status=arg("p_status", String()),
            data=document,
            updated_at=arg("p_at", table.c.updated_at.type),
        )
    )


def _ids_of(n: int) -> Select[Any]:
    table = RecordRow.metadata.tables["records"]
    return select(table.c.id).where(ids_in(table.c.id, n))


def _set_status_in_sql(
    session: Session, chunk: list[str], status: Status, reason: str | None, at: Any
) -> None:
    # Prepared (store/_prepared.py): a quality run changes the status of every record it
    # selected, and SQLAlchemy's per-row parameter processing cost more than SQLite's work
    held, args = ids_statement(_IDS_HELD, _ids_of, chunk)
    known = {row[0] for row in held.on_session(session, args).rows}
    for rid in chunk:
        if rid not in known:
            raise NotFound(f"no record {rid}", object_id=rid)

    rows = [
        {"p_id": rid, "p_status": status.value, "p_reason": reason, "p_at": at} for rid in chunk
    ]
    _set_status_statement().run_many(session.connection(), rows)


def restore_records(session: Session, record_ids: Sequence[str], *, actor: str) -> list[Record]:
    """Bring rejected records back for review, as a new version naming who restored them."""
    restored = []
    for rid in record_ids:
        rec = get_record(session, rid)
        if rec.status is not Status.REJECTED:
            raise QianmoError(f"is {rec.status.value}, not rejected", object_id=rid)
        rec.status, rec.status_reason = Status.NEEDS_REVIEW, f"restored by {actor}"
        step = LineageStep(type="person", name=actor, detail={"action": "restore"})
        restored.append(
            save_version(session, rec, actor=actor, change="records.restore", step=step)
        )
    return restored


def list_records(
    session: Session,
    flt: RecordFilter | None = None,
    *,
    viewer: Viewer | None = None,
    limit: int = 50,
    after: str | None = None,
) -> list[Record]:
    """Records in id order (ids sort by creation), keyset-paged with `after`."""
    query = listing_query([RecordRow.data], flt, viewer, limit=limit, after=after)
    return [to_record(d) for d in session.execute(query.order_by(RecordRow.id)).scalars()]


def iter_records(
    session: Session,
    flt: RecordFilter | None = None,
    *,
    batch: int = 1000,
    viewer: Viewer | None = None,
) -> Iterable[Record]:
    """Every selected record (that the viewer may see), streamed in batches."""
    after: str | None = None
    while True:
        page = list_records(session, flt, viewer=viewer, limit=batch, after=after)
        yield from page
        if len(page) < batch:
            return
        after = page[-1].id


def count_records(
    session: Session, flt: RecordFilter | None = None, *, viewer: Viewer | None = None
) -> int:
    query = (flt or RecordFilter()).apply(select(func.count()).select_from(RecordRow))
    if viewer is not None:
        query = query.where(visible_condition(viewer))
    return int(session.execute(query).scalar_one())
