"""Saving edits of many records at once, each with its lineage step: what a sync writes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from qianmo.standard import LineageStep, Record
from qianmo.store._audit import audit
from qianmo.store._records import write_versions

# Keeps each statement's IN list within every backend's limit on bound parameters.
CHUNK = 500


def save_edits(
    session: Session,
    edits: Sequence[tuple[Record, LineageStep | None]],
    *,
    actor: str,
    change: str,
) -> list[Record]:
    """New versions of edited records, in the order given, under one audit entry.

    A record may be edited more than once in the batch (a KEV catalogue attached to held CVE
    records): each edit becomes its own version, in order.
    """
    saved = []
    for rec, step in edits:
        data = rec.model_dump()
        if step is not None:
            data["lineage"]["steps"].append(step.model_dump())
        saved.append(Record.model_validate(data))
    rounds: list[list[Record]] = []
    times_seen: dict[str, int] = {}
    for new in saved:
        n = times_seen[new.id] = times_seen.get(new.id, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(new)
    for batch in rounds:
        for start in range(0, len(batch), CHUNK):
            write_versions(session, batch[start : start + CHUNK], actor=actor, change=change)
    if saved:
        ids = list(dict.fromkeys(r.id for r in saved))
        audit(session, actor=actor, action=change, object_type="record", object_ids=ids)
    return saved
