"""Writing source objects: new ones are added, changed ones become a new version with their
derived items regenerated, unchanged ones are skipped, withdrawn ones change status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import xxhash
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from qianmo.ingest.sources._catalog import Catalog
from qianmo.ingest.sources._common import Rejected, SourceObject
from qianmo.ingest.sources._derive import derive_items
from qianmo.ingest.sources._kev import KEV_MARK
from qianmo.standard import LineageStep, Record, Status, canonical_json
from qianmo.store import (
    RecordRow,
    add_records,
    add_relations,
    remove_relations,
    save_version,
    set_status,
    to_record,
)


@dataclass
class WriteCounts:
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    relations: int = 0
    items_added: int = 0
    items_updated: int = 0
    items_stale: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "rejected"}
        out["rejected"] = len(self.rejected)
        return out


@dataclass
class Writer:
    """Writes batches of one family's objects in the caller's transaction."""

    family: str
    actor: str
    import_id: str | None
    catalog: Catalog
    counts: WriteCounts = field(default_factory=WriteCounts)

    def write(self, session: Session, objects: Sequence[SourceObject]) -> None:
        self.catalog.add_objects(objects)
        existing = _existing(session, [o.record for o in objects])
        new_docs: list[tuple[SourceObject, Record]] = []
        for obj in objects:
            self.counts.read += 1
            key = (obj.record.source.name, str(obj.record.source.original_id))
            old = existing.get(key)
            if old is None:
                new_docs.append((obj, obj.record))
                continue
            self._update(session, obj, old)
        if not new_docs:
            return
        # new objects: one insert (and one audit entry) for the documents, one for their items
        add_records(
            session,
            [r for _, r in new_docs],
            actor=self.actor,
            import_id=self.import_id,
            action="ingest",
        )
        self.counts.added += len(new_docs)
        items: list[Record] = []
        for obj, rec in new_docs:
            self._relations(session, obj, fresh=True)
            if rec.status is Status.WITHDRAWN:
                self.counts.withdrawn += 1
            items += derive_items(obj, self.family, self.catalog)
        if items:
            added = add_records(
                session, items, actor=self.actor, import_id=self.import_id, action="ingest"
            )
            self.counts.items_added += len(added.added)

    def _update(self, session: Session, obj: SourceObject, old: Record) -> None:
        merged = merge_into(old, obj, self.family)
        if signature(merged) == signature(old):
            self.counts.unchanged += 1
            return
        step = LineageStep(
            type="import",
            name=self.family,
            detail={"import_id": self.import_id, "previous_version": old.version},
        )
        saved = save_version(session, merged, actor=self.actor, change="sync.update", step=step)
        self.counts.updated += 1
        if saved.status is Status.WITHDRAWN and old.status is not Status.WITHDRAWN:
            self.counts.withdrawn += 1
        self._relations(session, obj, fresh=False)
        self._items(session, obj, saved)

    def _relations(self, session: Session, obj: SourceObject, *, fresh: bool) -> None:
        if not fresh:
            for scheme, child in {(e.scheme, e.child) for e in obj.relations}:
                remove_relations(session, scheme, child)
        edges = [] if obj.withdrawn else obj.relations
        self.counts.relations += add_relations(
            session, [(e.scheme, e.child, e.relation, e.parent) for e in edges], source=self.family
        )

    def _items(self, session: Session, obj: SourceObject, doc: Record) -> None:
        obj.record = doc
        items = derive_items(obj, self.family, self.catalog)
        prefix = f"{doc.source.original_id}#{self.family}:"
        held = {
            r.source.original_id: r
            for r in _derived_of(session, doc.id)
            if (r.source.original_id or "").startswith(prefix)
        }
        fresh = [i for i in items if i.source.original_id not in held]
        for item in items:
            old = held.pop(item.source.original_id, None)
            if old is not None and (
                old.content_hash != item.content_hash or old.status is Status.WITHDRAWN
            ):
                self._regenerate(session, old, item, doc)
        if fresh:
            added = add_records(
                session, fresh, actor=self.actor, import_id=self.import_id, action="ingest"
            )
            self.counts.items_added += len(added.added)
        stale = [r for r in held.values() if r.status is not Status.WITHDRAWN]
        for rec in stale:
            rec.quality.flags["stale"] = {
                "reason": f"source {doc.source.original_id} changed",
                "source_version": doc.version,
            }
            rec.status, rec.status_reason = Status.WITHDRAWN, "stale: its source changed"
            save_version(session, rec, actor=self.actor, change="sync.stale")
        self.counts.items_stale += len(stale)

    def _regenerate(self, session: Session, old: Record, item: Record, doc: Record) -> None:
        data = old.model_dump()
        data.update(
            content=item.content,
            status=Status.RAW,
            status_reason=None,
            published_at=item.published_at,
            valid_as_of=item.valid_as_of,
            refs=item.refs.model_dump(),
            domain=item.domain,
        )
        data["quality"]["flags"].pop("stale", None)
        step = LineageStep(
            type="template",
            name=item.lineage.steps[0].name,
            detail={"regenerated_from_version": doc.version},
        )
        save_version(
            session,
            Record.model_validate(data),
            actor=self.actor,
            change="sync.regenerate",
            step=step,
        )
        self.counts.items_updated += 1


def signature(rec: Record) -> str:
    """What a sync compares: everything upstream decides, nothing the platform added."""
    return xxhash.xxh3_64_hexdigest(
        canonical_json(
            {
                "h": rec.content_hash,
                "tags": sorted(rec.tags),
                "refs": rec.refs.model_dump(),
                "p": str(rec.published_at),
                "v": str(rec.valid_as_of),
                "s": rec.status.value,
                "d": rec.domain,
                "l": rec.source.license,
                "u": rec.source.url,
            }
        )
    )


def merge_into(old: Record, obj: SourceObject, family: str) -> Record:
    """The new version of `old` given the upstream object (keeps id, lineage and quality)."""
    new = obj.record
    if family == "kev":
        return _with_kev(old, obj.facts) if not _is_kev_only(old) else _keep_identity(old, new)
    merged = _keep_identity(old, new)
    if "kev" in old.tags and "kev" not in new.tags:
        paragraph = _kev_paragraph_of(old)
        merged = _add_kev(merged, [t for t in old.tags if t.startswith("kev")], paragraph)
    return merged


def _keep_identity(old: Record, new: Record) -> Record:
    data = new.model_dump()
    data.update(
        id=old.id,
        version=old.version,
        quality=old.quality.model_dump(),
        lineage=old.lineage.model_dump(),
    )
    return Record.model_validate(data)


def _is_kev_only(rec: Record) -> bool:
    return rec.source.license == "CC0-1.0" and "kev" in rec.tags


def _kev_paragraph_of(rec: Record) -> str:
    text = str(rec.content.get("text", ""))
    return text[text.index(KEV_MARK) :] if KEV_MARK in text else ""


def _add_kev(rec: Record, tags: list[str], paragraph: str) -> Record:
    data = rec.model_dump()
    text = str(data["content"]["text"])
    if KEV_MARK in text:
        text = text[: text.index(KEV_MARK)].rstrip()
    data["content"]["text"] = f"{text}\n\n{paragraph}" if paragraph else text
    data["tags"] = [t for t in rec.tags if not t.startswith("kev")] + tags
    return Record.model_validate(data)


def _with_kev(old: Record, facts: dict[str, Any]) -> Record:
    merged = _add_kev(old, list(facts["kev_tags"]), str(facts["kev_paragraph"]))
    cwes = [*merged.refs.cwe, *[c for c in facts.get("cwes") or [] if c not in merged.refs.cwe]]
    return merged.model_copy(update={"refs": merged.refs.model_copy(update={"cwe": cwes})})


def _existing(session: Session, records: Iterable[Record]) -> dict[tuple[str, str], Record]:
    keys = list({(r.source.name, r.source.original_id) for r in records if r.source.original_id})
    out: dict[tuple[str, str], Record] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(RecordRow.data).where(
                tuple_(RecordRow.source_name, RecordRow.original_id).in_(keys[start : start + 500])
            )
        ).scalars()
        for data in rows:
            rec = to_record(data)
            out[(rec.source.name, str(rec.source.original_id))] = rec
    return out


def _derived_of(session: Session, root: str) -> list[Record]:
    rows = session.execute(
        select(RecordRow.data).where(RecordRow.lineage_root == root, RecordRow.id != root)
    ).scalars()
    return [to_record(d) for d in rows]


def withdraw_missing(
    session: Session, source_name: str, seen: set[str], *, actor: str, reason: str
) -> int:
    """Withdraw documents of a source that upstream no longer has (and their items)."""
    rows = session.execute(
        select(RecordRow.id, RecordRow.original_id).where(
            RecordRow.source_name == source_name,
            RecordRow.kind == "document",
            RecordRow.status != Status.WITHDRAWN.value,
        )
    ).all()
    gone = [rid for rid, orig in rows if orig and "#" not in orig and orig not in seen]
    items = (
        session.execute(
            select(RecordRow.id).where(
                RecordRow.lineage_root.in_(gone), RecordRow.status != Status.WITHDRAWN.value
            )
        )
        .scalars()
        .all()
        if gone
        else []
    )
    ids = sorted(set(gone) | set(items))
    if ids:
        set_status(
            session, ids, Status.WITHDRAWN, reason=reason, actor=actor, action="sync.withdraw"
        )
    return len(gone)
