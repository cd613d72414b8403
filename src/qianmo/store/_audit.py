"""The hash-chained audit log: one entry per committed change set, ids and digests only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
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


def audit_and_commit(
    session: Session, *, actor: str, action: str, object_type: str, object_ids: Sequence[str] = ()
) -> None:
    """`audit` as the transaction's LAST act, and commit it: the caller's `db.write()` block
    must do nothing after this (its own commit then finds nothing left to do).

    Every writer queues for the chain's head (`FOR UPDATE`) and holds it until its commit. On
    PostgreSQL the entry, the new head and the COMMIT go to the server in one pipeline, so the
    head is held for one round trip and one wake-up of the writing thread instead of three of
    each: under 50 concurrent annotators those wake-ups (each a wait for Python's GIL) were
    what every other writer queued behind. On SQLite `Database.write()` commits as usual.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        audit(session, actor=actor, action=action, object_type=object_type, object_ids=object_ids)
        return
    session.flush()  # nothing of the ORM's may be left to write after the COMMIT
    head = _LOCK_HEAD.run(conn).first()
    entry = _entry(head, actor, action, object_type, object_ids, None)
    entry["hash"] = _hash_of(entry)
    move = _NEW_HEAD if head is None else _MOVE_HEAD
    run_and_commit(conn, [(_APPEND, entry), (move, {"s": entry["seq"], "h": entry["hash"]})])


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
