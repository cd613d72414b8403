"""`check`: run `decide()` over a selection, settle the release licence, and audit the result.

One pass reads the records (streamed; only a small `Member` per allowed record is kept). When
allowed records carry a share-alike licence, the release must carry it: the licence carried by
the most records is chosen and the share-alike rule is applied again with it, which gives the
same answers as `decide(record, final_request)` for every record.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from dataclasses import dataclass, field

from qianmo.circulate._decide import Decision, decide, license_terms, share_alike_conflict
from qianmo.circulate._directory import resolve
from qianmo.circulate._request import ReleaseRequest
from qianmo.circulate._rules import load_rules
from qianmo.standard import Record, canonical_json
from qianmo.store import Database, RecordFilter, audit, iter_records, put_artifact


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


def _member(record: Record, train: bool) -> Member:
    dup = record.quality.flags.get("duplicate") or {}
    cluster = dup.get("cluster")
    return Member(
        id=record.id,
        version=record.version,
        content_hash=record.content_hash,
        kind=record.kind.value,
        lang=record.lang,
        domain=record.domain or "",
        root=record.lineage.root or record.id,
        cluster=str(cluster) if cluster is not None else None,
        train=train,
        license=record.source.license,
        org=record.source.org or "",
        source=record.source.name,
        score=record.quality.score,
        flags=tuple(sorted(record.quality.flags)),
        tlp=record.source.tlp.value,
        classification=record.classification.value,
    )


def evaluate(db: Database, request: ReleaseRequest) -> CheckReport:
    """Decide every selected record (no audit entry; see `check`)."""
    flt = RecordFilter.parse(request.filters)
    with db.read() as s:
        request = resolve(s, request)
    report = CheckReport(request)
    rules = load_rules()
    with db.read() as s:
        for record in iter_records(s, flt, batch=2000):
            verdict = decide(record, request, rules)
            if verdict.allowed:
                report.members.append(_member(record, verdict.train))
            else:
                chash = record.content_hash
                report.denied.append(_denial(record.id, record.version, chash, verdict))
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


def decision_table(report: CheckReport) -> bytes:
    """The decision for every selected record, in id order, after a header naming the rules."""
    header = {"rules": load_rules().digest, "request": report.request.to_json()}
    rows = [
        (m.id, m.version, m.content_hash, "allow" if m.train else "allow:no-train")
        for m in report.members
    ]
    rows += [(d.id, d.version, d.content_hash, d.rule) for d in report.denied]
    rows.sort()
    lines = [canonical_json(header)] + [canonical_json(list(r)) for r in rows]
    return b"\n".join(lines) + b"\n"


def check(db: Database, request: ReleaseRequest, *, actor: str) -> CheckReport:
    """Evaluate the request and write one audit entry with its decision table's digest."""
    report = evaluate(db, request)
    table = decision_table(report)
    report.decision_digest = hashlib.sha256(table).hexdigest()
    packed = gzip.compress(table, mtime=0)
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
