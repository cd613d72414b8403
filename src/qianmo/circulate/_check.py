"""`check`: run `decide()` over a selection, settle the release licence, and audit the result.

One pass reads the records (streamed; only a small `Member` per allowed record is kept). When
allowed records carry a share-alike licence, the release must carry it: the licence carried by
the most records is chosen and the share-alike rule is applied again with it, which gives the
same answers as `decide(record, final_request)` for every record.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import io
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import Select, Text, select, type_coerce
from sqlalchemy.orm import Session

from qianmo.circulate._decide import Decision, decide, license_terms, share_alike_conflict
from qianmo.circulate._directory import resolve
from qianmo.circulate._gc import collector_paused
from qianmo.circulate._request import ReleaseRequest
from qianmo.circulate._rules import load_rules
from qianmo.circulate._view import RecordView
from qianmo.standard import canonical_json
from qianmo.store import (
    Database,
    RecordFilter,
    RecordRow,
    Viewer,
    audit,
    put_artifact,
    visible_condition,
)


@dataclass(slots=True)
class Member:
    """What a release keeps of an allowed record (no content)."""

    id: str
    version: int
    content_hash: str
    kind: str
    lang: str
    domain: str
    root: str
    cluster: str | None
    train: bool
    license: str
    org: str
    source: str
    score: float | None
    flags: tuple[str, ...]
    tlp: str
    classification: str
    split: str = ""


@dataclass(slots=True)
class Denial:
    id: str
    version: int
    content_hash: str
    rule: str
    reason: str


@dataclass
class CheckReport:
    request: ReleaseRequest
    members: list[Member] = field(default_factory=list)
    denied: list[Denial] = field(default_factory=list)
    decision_digest: str = ""
    decision_artifact: str = ""

    @property
    def selected(self) -> int:
        return len(self.members) + len(self.denied)

    def by_rule(self) -> dict[str, list[Denial]]:
        out: dict[str, list[Denial]] = {}
        for d in sorted(self.denied, key=lambda d: (d.rule, d.id)):
            out.setdefault(d.rule, []).append(d)
        return out

    def license_expression(self) -> str:
        if self.request.license:
            return self.request.license
        exprs = sorted({m.license for m in self.members})
        return " AND ".join(f"({e})" if " " in e else e for e in exprs)

    def attributions(self) -> list[dict[str, object]]:
        """Every (source, organisation, licence) whose licence asks for attribution."""
        counts = Counter(
            (m.source, m.org, m.license)
            for m in self.members
            if license_terms(m.license).attribution
        )
        return [
            {"source": s, "org": o, "license": lic, "records": n}
            for (s, o, lic), n in sorted(counts.items())
        ]

    def refusal(self) -> str | None:
        """Why the request is forbidden outright, if it is: everything selected is left out."""
        if self.denied and not self.members:
            rule, items = max(self.by_rule().items(), key=lambda kv: len(kv[1]))
            return (
                f"the rules leave out all {self.selected} selected records "
                f"(most by {rule}: {items[0].reason})"
            )
        return None


def _denial(rid: str, version: int, chash: str, verdict: Decision) -> Denial:
    return Denial(rid, version, chash, verdict.rule or "", verdict.reason)


def _member(v: RecordView, train: bool) -> Member:
    dup = v.flags.get("duplicate") or {}
    cluster = dup.get("cluster")
    # Few distinct values repeat over hundreds of thousands of members: share one string each.
    intern = sys.intern
    return Member(
        id=v.id,
        version=v.version,
        content_hash=v.content_hash,
        kind=intern(v.kind),
        lang=intern(v.lang),
        domain=intern(v.domain or ""),
        root=v.root or v.id,
        cluster=str(cluster) if cluster is not None else None,
        train=train,
        license=intern(v.license),
        org=intern(v.org),
        source=intern(v.source_name),
        score=v.score,
        flags=_flags(tuple(sorted(v.flags))),
        tlp=intern(v.tlp),
        classification=intern(v.classification),
    )


PAGE = 10_000  # keyset page of the check's read: large pages, few queries


def as_json(value: Any) -> dict[str, Any]:
    """Stored JSON read as text, parsed by orjson (several times faster than the JSON type);
    PostgreSQL's driver may hand back a parsed document already."""
    data: dict[str, Any] = orjson.loads(value) if isinstance(value, str | bytes) else value
    return data


_FLAG_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _flags(names: tuple[str, ...]) -> tuple[str, ...]:
    return _FLAG_SETS.setdefault(names, names)


def iter_views(
    session: Session, flt: RecordFilter, viewer: Viewer | None = None
) -> Iterator[RecordView]:
    """Every selected record's view, in id order, read in large keyset pages.

    Only the id and the JSON as text are read, and orjson parses it: no `Record` validation
    (see `_view`), no per-record query."""
    after = ""
    while True:
        query = cast("Select[Any]", select(RecordRow.id, type_coerce(RecordRow.data, Text)))
        query = flt.apply(query).where(RecordRow.id > after).order_by(RecordRow.id).limit(PAGE)
        if viewer is not None:  # a request made by a user covers only what they may see
            query = query.where(visible_condition(viewer))
        page = session.execute(query).all()
        for _, data in page:
            yield RecordView.from_data(as_json(data))
        if len(page) < PAGE:
            return
        after = page[-1][0]


def evaluate(db: Database, request: ReleaseRequest, viewer: Viewer | None = None) -> CheckReport:
    """Decide every selected record (no audit entry; see `check`); with a viewer, only the
    records they may see are selected, so no count in the report reveals any other."""
    flt = RecordFilter.parse(request.filters)
    with db.read() as s:
        request = resolve(s, request)
    report = CheckReport(request)
    rules = load_rules()
    members, denied = report.members, report.denied
    with db.read() as s, collector_paused():
        for view in iter_views(s, flt, viewer):
            verdict = decide(view, request, rules)
            if verdict.allowed:
                members.append(_member(view, verdict.train))
            else:
                denied.append(_denial(view.id, view.version, view.content_hash, verdict))
    _settle_share_alike(report)
    return report


def _settle_share_alike(report: CheckReport) -> None:
    carried = report.request.license
    if carried is None:
        candidates = sorted(
            {sa for m in report.members for sa in license_terms(m.license).share_alike}
        )
        if not candidates:
            return
        # carry the share-alike licence that keeps the most records (ties: by name)
        carried = min(candidates, key=lambda c: (-_kept(report.members, c), c))
        report.request = report.request.with_license(carried)
    kept: list[Member] = []
    for m in report.members:
        verdict = share_alike_conflict(license_terms(m.license), carried)
        if verdict is None:
            kept.append(m)
        else:
            report.denied.append(_denial(m.id, m.version, m.content_hash, verdict))
    report.members = kept
    report.denied.sort(key=lambda d: d.id)


def _kept(members: list[Member], carried: str) -> int:
    by_license = Counter(m.license for m in members)
    return sum(
        n
        for lic, n in by_license.items()
        if share_alike_conflict(license_terms(lic), carried) is None
    )


def decision_lines(report: CheckReport) -> Iterator[bytes]:
    """The decision for every selected record, in id order, after a header naming the rules.

    Streamed: both lists are already in id order, so a merge gives the table without copying
    half a million rows (at 500k records the copies cost more memory than the members)."""
    header = {"rules": load_rules().digest, "request": report.request.to_json()}
    yield canonical_json(header) + b"\n"
    allowed = (
        (m.id, m.version, m.content_hash, "allow" if m.train else "allow:no-train")
        for m in report.members
    )
    denied = ((d.id, d.version, d.content_hash, d.rule) for d in report.denied)
    for row in heapq.merge(allowed, denied):
        yield canonical_json(list(row)) + b"\n"


def decision_table(report: CheckReport) -> bytes:
    return b"".join(decision_lines(report))


def _pack(report: CheckReport) -> tuple[str, bytes]:
    """SHA-256 of the decision table and the table gzipped, without holding it uncompressed."""
    digest, buffer = hashlib.sha256(), io.BytesIO()
    with collector_paused(), gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as packed:
        chunk: list[bytes] = []
        for line in decision_lines(report):
            digest.update(line)
            chunk.append(line)
            if len(chunk) == PAGE:  # one compress call per page, not per line
                packed.write(b"".join(chunk))
                chunk.clear()
        packed.write(b"".join(chunk))
    return digest.hexdigest(), buffer.getvalue()


def check(
    db: Database, request: ReleaseRequest, *, actor: str, viewer: Viewer | None = None
) -> CheckReport:
    """Evaluate the request and write one audit entry with its decision table's digest."""
    report = evaluate(db, request, viewer)
    report.decision_digest, packed = _pack(report)
    with db.write() as s:
        report.decision_artifact = put_artifact(
            s, packed, name=f"decisions-{request.name}.jsonl.gz", media_type="application/gzip"
        )
        audit(
            s,
            actor=actor,
            action="release.check",
            object_type="release",
            object_ids=[request.name],
            digest=report.decision_digest,
            artifact=report.decision_artifact,
        )
    return report
