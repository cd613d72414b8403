"""The hash-chained audit log: one entry per committed change set, ids and digests only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.standard import canonical_json, utcnow
from qianmo.store._models import AuditHeadRow, AuditRow

GENESIS = "0" * 64
# Up to this many ids are listed in an entry; more are summarised by count and digest.
MAX_LISTED_IDS = 100


def digest_ids(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def _entry_hash(row: AuditRow) -> str:
    body = {
        "seq": row.seq,
        "at": _normalise_at(row.at).isoformat(),
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_ids": row.object_ids,
        "count": row.count,
        "digest": row.digest,
        "artifact": row.artifact,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _normalise_at(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; hash a form both databases round-trip identically.
    return at.replace(tzinfo=None, microsecond=(at.microsecond // 1000) * 1000)


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
    """Append one entry inside the caller's transaction, so it commits with the change."""
    head = session.execute(
        select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHeadRow(id=1, seq=0, hash=GENESIS)
        session.add(head)
    ids = list(object_ids)
    listed = ids if len(ids) <= MAX_LISTED_IDS else []
    if digest is None and len(ids) > MAX_LISTED_IDS:
        digest = digest_ids(ids)
    row = AuditRow(
        seq=head.seq + 1,
        at=_normalise_at(utcnow()),
        actor=actor,
        action=action,
        object_type=object_type,
        object_ids=listed,
        count=len(ids),
        digest=digest,
        artifact=artifact,
        prev_hash=head.hash,
    )
    row.hash = _entry_hash(row)
    session.add(row)
    head.seq, head.hash = row.seq, row.hash
    session.flush()
    return row


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
