"""Writing source objects: new ones are added, changed ones become a new version with their
derived items regenerated, unchanged ones are skipped, withdrawn ones change status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import xxhash
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from qianmo.ingest._terms import TERMS
from qianmo.ingest.sources._catalog import Catalog
from qianmo.ingest.sources._common import Rejected, SourceObject
from qianmo.ingest.sources._derive import derive_items
from qianmo.ingest.sources._kev import KEV_MARK
from qianmo.standard import LineageStep, Record, Status, canonical_json
from qianmo.store import (
    ImportRow,
    PreparedCache,
    RecordRow,
    add_records,
    add_relations,
    arg,
    ids_in,
    ids_statement,
    remove_relations_of,
    save_edits,
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
    """Writes batches of one family's objects in the caller's transaction.

    Every step works on the whole batch: one lookup of the held records by original id, one
    insert of new documents and one of their items, one versioned update of the changed ones,
    one hierarchy update. An unchanged object is recognised from the stored JSON without
    building a `Record`, so a no-change re-sync costs a read and a hash per object.
    """

    family: str
    actor: str
    import_id: str | None
    catalog: Catalog
    counts: WriteCounts = field(default_factory=WriteCounts)

    def write(self, session: Session, objects: Sequence[SourceObject]) -> None:
        existing = _existing(session, [o.record for o in objects])
        new_docs: list[SourceObject] = []
        changed: list[tuple[SourceObject, Record]] = []
        for obj in objects:
            self.counts.read += 1
            old = existing.get((obj.record.source.name, str(obj.record.source.original_id)))
            if old is None:
                new_docs.append(obj)
            elif unchanged(old, obj, self.family):
                self.counts.unchanged += 1
            else:
                changed.append((obj, to_record(old)))
        self._add(session, new_docs)
        self._update(session, changed)

    def _add(self, session: Session, objects: Sequence[SourceObject]) -> None:
        if not objects:
            return
        docs = [o.record for o in objects]
        items = [i for o in objects for i in derive_items(o, self.family, self.catalog)]
        # Documents and their items in one call: one look-up of held keys, one insert per table
        # and one audit entry for the batch, instead of two of each.
        added = add_records(
            session, [*docs, *items], actor=self.actor, import_id=self.import_id, action="ingest"
        )
        self.counts.added += len(docs)
        self.counts.withdrawn += sum(1 for d in docs if d.status is Status.WITHDRAWN)
        item_ids = {i.id for i in items}
        self.counts.items_added += sum(1 for i in added.added if i in item_ids)
        self._relations(session, objects, fresh=True)

    def _update(self, session: Session, changed: Sequence[tuple[SourceObject, Record]]) -> None:
        edits: list[tuple[Record, LineageStep | None]] = []
        moved: list[tuple[SourceObject, Record]] = []
        for obj, old in changed:
            merged = merge_into(old, obj, self.family)
            if signature(merged) == signature(old):
                self.counts.unchanged += 1
                continue
            detail = {"import_id": self.import_id, "previous_version": old.version}
            edits.append((merged, LineageStep(type="import", name=self.family, detail=detail)))
            moved.append((obj, old))
        saved = save_edits(session, edits, actor=self.actor, change="sync.update")
        self.counts.updated += len(saved)
        self.counts.withdrawn += sum(
            1
            for (_, old), new in zip(moved, saved, strict=True)
            if new.status is Status.WITHDRAWN and old.status is not Status.WITHDRAWN
        )
        self._relations(session, [obj for obj, _ in moved], fresh=False)
        for (obj, _), doc in zip(moved, saved, strict=True):
            obj.record = doc
        self._items(session, [obj for obj, _ in moved])

    def _relations(self, session: Session, objects: Sequence[SourceObject], *, fresh: bool) -> None:
        if not fresh:
            remove_relations_of(
                session, {(e.scheme, e.child) for o in objects for e in o.relations}
            )
        edges = [
            (e.scheme, e.child, e.relation, e.parent)
            for o in objects
            if not o.withdrawn
            for e in o.relations
        ]
        self.counts.relations += add_relations(session, edges, source=self.family)

    def _items(self, session: Session, docs: Sequence[SourceObject]) -> None:
        """Regenerate the items of changed documents: new templates add items, changed ones
        get a new version, ones no longer made are withdrawn as stale."""
        if not docs:
            return
        held_by_root = _derived_of(session, [o.record.id for o in docs])
        fresh: list[Record] = []
        regenerated: list[tuple[Record, LineageStep | None]] = []
        stale: list[tuple[Record, LineageStep | None]] = []
        for obj in docs:
            doc = obj.record
            prefix = f"{doc.source.original_id}#{self.family}:"
            held = {
                str(d["source"].get("original_id")): d
                for d in held_by_root.get(doc.id, [])
                if str(d["source"].get("original_id") or "").startswith(prefix)
            }
            for item in derive_items(obj, self.family, self.catalog):
                old = held.pop(str(item.source.original_id), None)
                if old is None:
                    fresh.append(item)
                elif (
                    old["content_hash"] != item.content_hash
                    or old["status"] == "withdrawn"
                    or _terms(old["source"]) != _terms(item.source.model_dump(mode="json"))
                ):
                    regenerated.append(_regenerated(to_record(old), item, doc))
            stale += [
                _stale(to_record(d), doc) for d in held.values() if d["status"] != "withdrawn"
            ]
        if fresh:
            added = add_records(
                session, fresh, actor=self.actor, import_id=self.import_id, action="ingest"
            )
            self.counts.items_added += len(added.added)
        self.counts.items_updated += len(
            save_edits(session, regenerated, actor=self.actor, change="sync.regenerate")
        )
        self.counts.items_stale += len(
            save_edits(session, stale, actor=self.actor, change="sync.stale")
        )


def _terms(source: dict[str, Any]) -> tuple[Any, ...]:
    """What an item copies from its document's source block that an import's options set
    (the generic ingest's terms, ingest/_terms.py): another licence, org or TLP for the
    document is another one for its items."""
    return tuple(source.get(t) for t in TERMS)


def _regenerated(old: Record, item: Record, doc: Record) -> tuple[Record, LineageStep]:
    # A copy, not a re-validation: `save_edits` validates each new version once anyway.
    flags = {k: v for k, v in old.quality.flags.items() if k != "stale"}
    new = old.model_copy(
        update={
            "content": item.content,
            "content_hash": item.content_hash,
            "status": Status.RAW,
            "status_reason": None,
            "published_at": item.published_at,
            "valid_as_of": item.valid_as_of,
            "refs": item.refs.model_copy(deep=True),
            "domain": item.domain,
            "source": item.source.model_copy(),
            "quality": old.quality.model_copy(update={"flags": flags}),
        }
    )
    step = LineageStep(
        type="template",
        name=item.lineage.steps[0].name,
        detail={"regenerated_from_version": doc.version},
    )
    return new, step


def _stale(rec: Record, doc: Record) -> tuple[Record, None]:
    rec.quality.flags["stale"] = {
        "reason": f"source {doc.source.original_id} changed",
        "source_version": doc.version,
    }
    rec.status, rec.status_reason = Status.WITHDRAWN, "stale: its source changed"
    return rec, None


def _iso(value: Any) -> str | None:
    """A date as the stored JSON and a fresh record both give it, for comparing the two."""
    if value is None:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.isoformat()


def _sig(data: dict[str, Any]) -> str:
    return xxhash.xxh3_64_hexdigest(canonical_json(data))


def signature(rec: Record) -> str:
    """What a sync compares: everything upstream decides, nothing the platform added (a
    record accepted or rejected by quality is not changed upstream: only withdrawal counts)."""
    return _sig(
        {
            "h": rec.content_hash,
            "tags": sorted(rec.tags),
            "refs": rec.refs.model_dump(mode="json"),
            "p": _iso(rec.published_at),
            "v": _iso(rec.valid_as_of),
            "w": rec.status is Status.WITHDRAWN,
            "d": rec.domain,
            "l": rec.source.license,
            "u": rec.source.url,
            # the import's options set these: another --org or --tlp is a new version
            "o": rec.source.org,
            "t": rec.source.tlp.value,
        }
    )


def stored_signature(data: dict[str, Any]) -> str:
    """`signature` of a stored record's JSON, without validating it into a `Record`."""
    source = data.get("source") or {}
    return _sig(
        {
            "h": data.get("content_hash"),
            "tags": sorted(data.get("tags") or []),
            "refs": data.get("refs"),
            "p": _iso(data.get("published_at")),
            "v": _iso(data.get("valid_as_of")),
            "w": data.get("status") == Status.WITHDRAWN.value,
            "d": data.get("domain"),
            "l": source.get("license"),
            "u": source.get("url"),
            "o": source.get("org"),
            "t": source.get("tlp"),
        }
    )


def unchanged(old: dict[str, Any], obj: SourceObject, family: str) -> bool:
    """True when the upstream object leaves the stored record as it is (a quick check: False
    sends the object through the full merge, which decides exactly)."""
    tags = old.get("tags") or []
    if family == "kev" and not _is_kev_only_data(old):
        return _kev_attached(old, obj.facts)
    if "kev" in tags and "kev" not in obj.record.tags:
        return False  # the merge keeps the KEV paragraph: only it can tell
    return stored_signature(old) == signature(obj.record)


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
    # A copy, not a re-validation: both records are valid, and `save_edits` validates the
    # version it stores.
    return new.model_copy(
        update={
            "id": old.id,
            "version": old.version,
            "quality": old.quality.model_copy(deep=True),
            "lineage": old.lineage.model_copy(deep=True),
        }
    )


def _is_kev_only(rec: Record) -> bool:
    return rec.source.license == "CC0-1.0" and "kev" in rec.tags


def _is_kev_only_data(data: dict[str, Any]) -> bool:
    return (data.get("source") or {}).get("license") == "CC0-1.0" and "kev" in (
        data.get("tags") or []
    )


def _kev_attached(old: dict[str, Any], facts: dict[str, Any]) -> bool:
    """A held CVE record already carries exactly this KEV entry (its tags, paragraph, CWEs)."""
    tags = list(old.get("tags") or [])
    text = str((old.get("content") or {}).get("text", ""))
    cwes = (old.get("refs") or {}).get("cwe") or []
    return (
        _kev_tags(tags, list(facts["kev_tags"])) == tags
        and _kev_text(text, str(facts["kev_paragraph"])) == text
        and all(c in cwes for c in facts.get("cwes") or [])
    )


def _kev_text(text: str, paragraph: str) -> str:
    if KEV_MARK in text:
        text = text[: text.index(KEV_MARK)].rstrip()
    return f"{text}\n\n{paragraph}" if paragraph else text


def _kev_tags(tags: list[str], kev: list[str]) -> list[str]:
    return [t for t in tags if not t.startswith("kev")] + kev


def _kev_paragraph_of(rec: Record) -> str:
    text = str(rec.content.get("text", ""))
    return text[text.index(KEV_MARK) :] if KEV_MARK in text else ""


def _add_kev(rec: Record, tags: list[str], paragraph: str) -> Record:
    data = rec.model_dump()
    data["content"]["text"] = _kev_text(str(data["content"]["text"]), paragraph)
    data["tags"] = _kev_tags(rec.tags, tags)
    return Record.model_validate(data)


def _with_kev(old: Record, facts: dict[str, Any]) -> Record:
    merged = _add_kev(old, list(facts["kev_tags"]), str(facts["kev_paragraph"]))
    cwes = [*merged.refs.cwe, *[c for c in facts.get("cwes") or [] if c not in merged.refs.cwe]]
    return merged.model_copy(update={"refs": merged.refs.model_copy(update={"cwe": cwes})})


# Prepared once per chunk length (store/_prepared.py): run for every batch, and on a small
# input SQLAlchemy's execution layer cost more than the look-up (0.64 → 0.09 ms CPU, ATT&CK
# sample).
_HELD = PreparedCache(8)


def _held_of(n: int) -> Any:
    return select(RecordRow.original_id, RecordRow.data).where(
        RecordRow.source_name == arg("source_name", String()), ids_in(RecordRow.original_id, n)
    )


def _existing(session: Session, records: Iterable[Record]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored JSON of the held records with these original ids, by (source, original id);
    asked per source name so the (source_name, original_id) index answers."""
    by_name: dict[str, set[str]] = {}
    for r in records:
        if r.source.original_id:
            by_name.setdefault(r.source.name, set()).add(r.source.original_id)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name, originals in by_name.items():
        keys = sorted(originals)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            held, args = ids_statement(_HELD, _held_of, chunk)
            rows = held.on_session(session, {"source_name": name, **args}).rows
            out.update(((name, str(orig)), data) for orig, data in rows)
    return out


def _derived_of(session: Session, roots: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The stored JSON of the items derived from each of these documents."""
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(roots), 500):
        chunk = list(roots[start : start + 500])
        rows = session.execute(
            select(RecordRow.lineage_root, RecordRow.data).where(
                RecordRow.lineage_root.in_(chunk), RecordRow.id.not_in(chunk)
            )
        ).all()
        for root, data in rows:
            out.setdefault(str(root), []).append(data)
    return out


def _in_mirror(mirror: str) -> Any:
    """Imports of `mirror` or of a path under it. The prefix is compared as a substring, not
    by LIKE, which SQLite matches ignoring ASCII case: syncing `…/cves` took `…/CVES/more`'s
    documents for its own there, and not on PostgreSQL."""
    prefix = mirror.rstrip("/") + "/"
    name = ImportRow.file_name
    return (name == mirror) | (func.substr(name, 1, len(prefix)) == prefix)


def withdraw_missing(
    session: Session, source_name: str, mirror: str, seen: set[str], *, actor: str, reason: str
) -> int:
    """Withdraw documents of a source that upstream no longer has, and their items.

    Only documents this mirror brought in count: those first imported from `mirror` (the
    import's resolved path) or from a file under it. Two folders of one source (OSV advisories
    of two ecosystems, the demo's CVEs beside a cvelistV5 checkout) are two mirrors, and
    syncing one withdraws nothing of the other. A record's import id is the import that added
    it; later versions keep it.

    The gone documents are one set-difference query — the source's held documents whose
    original id is not in a temporary table of the seen ids — so no list of every held id comes
    back to Python, and no statement carries one bound parameter per held id (a cvelistV5
    mirror holds ~250,000). Their items are then looked up by lineage root, 500 gone documents
    a statement (the set difference ran a second time as the items' subquery before).
    """
    conn = session.connection()
    table = Table(
        "qianmo_sync_seen",
        MetaData(),
        Column("original_id", String(1024), primary_key=True),
        prefixes=["TEMPORARY"],
    )
    table.create(conn)
    try:
        if seen:
            conn.execute(insert(table), [{"original_id": i} for i in seen])
        gone_docs = select(RecordRow.id).where(
            RecordRow.source_name == source_name,
            RecordRow.kind == "document",
            RecordRow.status != Status.WITHDRAWN.value,
            RecordRow.original_id.is_not(None),
            RecordRow.import_id.in_(select(ImportRow.id).where(_in_mirror(mirror))),
            RecordRow.original_id.not_in(select(table.c.original_id)),
            ~RecordRow.original_id.contains("#", autoescape=True),
        )
        gone = list(session.execute(gone_docs).scalars())
    finally:
        table.drop(conn)
    items: set[str] = set()
    for start in range(0, len(gone), 500):
        items.update(
            session.execute(
                select(RecordRow.id).where(
                    RecordRow.lineage_root.in_(gone[start : start + 500]),
                    RecordRow.status != Status.WITHDRAWN.value,
                )
            ).scalars()
        )
    ids = sorted({*gone, *items})
    if ids:
        set_status(
            session, ids, Status.WITHDRAWN, reason=reason, actor=actor, action="sync.withdraw"
        )
    return len(gone)
