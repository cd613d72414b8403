"""The hash-chained audit log: one entry per committed change set, ids and digests only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    LargeBinary,
    String,
    Table,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session

from qianmo.standard import canonical_json, utcnow
from qianmo.store._models import AuditHeadRow, AuditRow
from qianmo.store._prepared import Prepared, arg, run_and_commit

GENESIS = "0" * 64
# Up to this many ids are listed in an entry; more are summarised by count and digest.
MAX_LISTED_IDS = 100


def digest_ids(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def _entry_hash(row: AuditRow) -> str:
    return _hash_of(
        {
            "seq": row.seq,
            "at": row.at,
            "actor": row.actor,
            "action": row.action,
            "object_type": row.object_type,
            "object_ids": row.object_ids,
            "count": row.count,
            "digest": row.digest,
            "artifact": row.artifact,
            "prev_hash": row.prev_hash,
        }
    )


def _hash_of(entry: dict[str, Any]) -> str:
    body = {**entry, "at": _normalise_at(entry["at"]).isoformat()}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _normalise_at(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; hash a form both databases round-trip identically.
    return at.replace(tzinfo=None, microsecond=(at.microsecond // 1000) * 1000)


_HEAD: Table = AuditHeadRow.__table__  # type: ignore[assignment]
_LOG: Table = AuditRow.__table__  # type: ignore[assignment]
# Prepared (store/_prepared.py): every state-changing request appends an entry, and through
# SQLAlchemy's execution layer these three statements cost more than the change they record.
_LOCK_HEAD = Prepared(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update())
_MOVE_HEAD = Prepared(update(_HEAD).where(_HEAD.c.id == 1).values(seq=arg("s"), hash=arg("h")))
_NEW_HEAD = Prepared(insert(_HEAD).values(id=1, seq=arg("s"), hash=arg("h")))
_APPEND = Prepared(insert(_LOG).values({c.name: arg(c.name) for c in _LOG.columns}))


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_ids: Sequence[str] = (),
    digest: str | None = None,
    artifact: str | None = None,
) -> AuditRow:
    """Append one entry inside the caller's transaction, so it commits with the change.

    Prepared Core statements on the session's connection: this runs in every state-changing
    request, and the ORM's load-and-flush of the head and the entry cost more than the change.
    """
    conn = session.connection()
    head = _LOCK_HEAD.run(conn).first()
    entry = _entry(head, actor, action, object_type, object_ids, digest)
    entry["artifact"] = artifact
    entry["hash"] = _hash_of(entry)
    _APPEND.run(conn, entry)
    (_NEW_HEAD if head is None else _MOVE_HEAD).run(conn, {"s": entry["seq"], "h": entry["hash"]})
    return AuditRow(**entry)


def _entry(
    head: tuple[Any, ...] | None,
    actor: str,
    action: str,
    object_type: str,
    object_ids: Sequence[str],
    digest: str | None,
) -> dict[str, Any]:
    seq, prev_hash = (head[0], head[1]) if head is not None else (0, GENESIS)
    ids = list(object_ids)
    listed = ids if len(ids) <= MAX_LISTED_IDS else []
    if digest is None and len(ids) > MAX_LISTED_IDS:
        digest = digest_ids(ids)
    return {
        "seq": seq + 1,
        "at": _normalise_at(utcnow()),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_ids": listed,
        "count": len(ids),
        "digest": digest,
        "artifact": None,
        "prev_hash": prev_hash,
    }


@dataclass(frozen=True)
class Entry:
    """An audit entry to append (`audit_and_commit`)."""

    actor: str
    action: str
    object_type: str
    object_ids: Sequence[str] = ()


def audit_and_commit(
    session: Session,
    entries: Sequence[Entry],
    before: Sequence[tuple[Prepared, Mapping[str, Any]]] = (),
) -> None:
    """Append `entries` (in order) as the transaction's LAST act, and commit it: the caller's
    `db.write()` block must do nothing after this (its own commit then finds nothing to do).
    `before` are writes that return nothing, run first (on PostgreSQL in the same round trip).

    Every writer queues for the chain's head (`FOR UPDATE`) and holds it until its commit.
    `audit` holds it across three round trips, and after each the writing thread has to be
    scheduled again (and take Python's GIL) before it sends the next: under 50 concurrent
    annotators on PostgreSQL that was ~8 ms a writer, for which every other writer queued. On
    PostgreSQL each entry is one statement that locks the head, computes the entry's hash in
    the server (`_append_in_server`) and moves the head, and the COMMIT follows in the same
    pipeline: the head is held only while the server runs them. On SQLite `Database.write()`
    commits as usual.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        for statement, params in before:
            statement.run(conn, params)
        for e in entries:
            audit(
                session,
                actor=e.actor,
                action=e.action,
                object_type=e.object_type,
                object_ids=e.object_ids,
            )
        return
    session.flush()  # nothing of the ORM's may be left to write after the COMMIT
    steps = list(before)
    for e in entries:
        entry = _entry(None, e.actor, e.action, e.object_type, e.object_ids, None)
        entry["prefix"] = _hash_prefix(entry)
        del entry["seq"], entry["prev_hash"]
        steps.append((_append_in_server(), entry))
    run_and_commit(conn, steps)


def _hash_prefix(entry: dict[str, Any]) -> bytes:
    """What `_hash_of` hashes, up to the previous hash: the keys are sorted, so the entry's
    canonical JSON ends with `"prev_hash":"<hash>","seq":<n>}` and the server appends those."""
    text = canonical_json({**entry, "prev_hash": GENESIS, "seq": 0, "at": entry["at"].isoformat()})
    tail = f'"prev_hash":"{GENESIS}","seq":0}}'.encode()
    if not text.endswith(tail):  # canonical_json changed its form: the server would differ
        raise AssertionError("the audit entry's canonical form no longer ends with its seq")
    return text[: -len(tail)] + b'"prev_hash":"'


# On PostgreSQL, the whole append in one statement: lock the head (or start from GENESIS),
# hash the entry as `_hash_of` does — the given prefix, then the previous hash and the new seq —
# insert it and move the head. The head CTE is read twice, so PostgreSQL materialises it (the
# row locked once); the ON CONFLICT update acts on the row's latest version, the one locked.
# Built on first use, on PostgreSQL only: its dialect's import was 19 ms of every command's
# start-up on either database.
@cache
def _append_in_server() -> Prepared:
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    head = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update().cte("head")
    cur = select(
        func.coalesce(select(head.c.seq).scalar_subquery(), 0).label("seq"),
        func.coalesce(select(head.c.hash).scalar_subquery(), GENESIS).label("hash"),
    ).cte("cur")
    tail = cur.c.hash + '","seq":' + cast(cur.c.seq + 1, String) + "}"
    digest = func.encode(
        func.sha256(
            arg("prefix", LargeBinary()).op("||", return_type=LargeBinary())(
                func.convert_to(tail, literal_column("'UTF8'"))
            )
        ),
        literal_column("'hex'"),
    )
    new = select(
        (cur.c.seq + 1).label("seq"), cur.c.hash.label("prev_hash"), digest.label("hash")
    ).cte("entry")
    given = ("at", "actor", "action", "object_type", "object_ids", "count", "digest", "artifact")
    appended = (
        insert(_LOG)
        .from_select(
            ["seq", *given, "prev_hash", "hash"],
            select(
                new.c.seq, *(arg(c, _LOG.c[c].type) for c in given), new.c.prev_hash, new.c.hash
            ),
        )
        .cte("appended")
    )
    moved = pg_insert(_HEAD).from_select(
        ["id", "seq", "hash"], select(literal(1, Integer), new.c.seq, new.c.hash)
    )
    return Prepared(
        moved.on_conflict_do_update(
            index_elements=[_HEAD.c.id],
            set_={"seq": moved.excluded.seq, "hash": moved.excluded.hash},
        ).add_cte(appended)
    )


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit entry {self.seq}: {self.problem}"


@dataclass(frozen=True)
class AuditReport:
    entries: int
    problem: AuditProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(session: Session) -> AuditReport:
    """Walk the chain; name the first entry that was altered, removed or moved."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for row in session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars():
        count += 1
        if row.seq != expected_seq:
            what = f"missing (the chain jumps from {expected_seq - 1} to {row.seq})"
            return AuditReport(count, AuditProblem(expected_seq, what))
        if row.prev_hash != prev_hash:
            return AuditReport(
                count, AuditProblem(row.seq, "out of order or its predecessor changed")
            )
        if _entry_hash(row) != row.hash:
            return AuditReport(count, AuditProblem(row.seq, "altered (its hash does not match)"))
        prev_hash, expected_seq = row.hash, expected_seq + 1
    head = session.get(AuditHeadRow, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        return AuditReport(count, AuditProblem(head.seq, "missing (entries after it were removed)"))
    return AuditReport(count, None)


def audit_entries(session: Session, *, limit: int = 100, action: str | None = None) -> list[Any]:
    query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
    if action:
        query = query.where(AuditRow.action == action)
    return list(session.execute(query).scalars())
