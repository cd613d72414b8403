"""`diff A B`: records added, removed and changed (new version or content) between releases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from qianmo.circulate._release import SnapshotMember, get_release, snapshot


@dataclass
class ReleaseDiff:
    a: str
    b: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, str]] = field(default_factory=list)  # same record, another split
    unchanged: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "moved": self.moved,
            "unchanged": self.unchanged,
        }


def diff_releases(session: Session, ref_a: str, ref_b: str) -> ReleaseDiff:
    a, b = get_release(session, ref_a), get_release(session, ref_b)
    old = {m.record_id: m for m in snapshot(session, a.id)}
    new = {m.record_id: m for m in snapshot(session, b.id)}
    out = ReleaseDiff(f"{a.name}@{a.version}", f"{b.name}@{b.version}")
    out.added = sorted(new.keys() - old.keys())
    out.removed = sorted(old.keys() - new.keys())
    for rid in sorted(old.keys() & new.keys()):
        before, after = old[rid], new[rid]
        if _changed(before, after):
            out.changed.append(
                {
                    "id": rid,
                    "from_version": before.record_version,
                    "to_version": after.record_version,
                    "content_changed": before.content_hash != after.content_hash,
                }
            )
        elif before.split != after.split:
            out.moved.append({"id": rid, "from": before.split, "to": after.split})
        else:
            out.unchanged += 1
    return out


def _changed(a: SnapshotMember, b: SnapshotMember) -> bool:
    return a.record_version != b.record_version or a.content_hash != b.content_hash
