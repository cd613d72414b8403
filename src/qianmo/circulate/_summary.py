"""A release's summary: counts by split, domain, kind, language, organisation and source,
quality statistics, licence, attributions and circulation terms. Sorted, so stable."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from qianmo.circulate._check import CheckReport, Member
from qianmo.circulate._decide import license_terms
from qianmo.circulate._gc import collector_paused
from qianmo.circulate._splits import SPLITS
from qianmo.standard import TLP, Classification, load_licenses


def _by(members: Sequence[Member], key: str) -> dict[str, dict[str, int]]:
    """{value: {split: n, …, "total": n}} for one member field."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for m in members:
        value = str(getattr(m, key) or "(none)")
        table[value][m.split] += 1
        table[value]["total"] += 1
    return {v: {s: c[s] for s in (*SPLITS, "total")} for v, c in sorted(table.items())}


def _quality(members: Sequence[Member]) -> dict[str, Any]:
    scores = [m.score for m in members if m.score is not None]
    flags = Counter(f for m in members for f in m.flags)
    clusters = {m.cluster for m in members if m.cluster is not None}
    return {
        "scored": len(scores),
        "mean": round(sum(scores) / len(scores), 4) if scores else None,
        "min": min(scores) if scores else None,
        "max": max(scores) if scores else None,
        "flags": dict(sorted(flags.items())),
        "duplicate_clusters": len(clusters),
        "lineage_roots": len({m.root for m in members}),
    }


def _notices(members: Sequence[Member]) -> list[dict[str, str]]:
    table = load_licenses()
    ids = sorted({lic for m in members for lic in license_terms(m.license).licenses})
    return [{"license": i, "notice": table.get(i).notice} for i in ids]


@collector_paused()
def summarise(report: CheckReport) -> dict[str, Any]:
    members = report.members
    tlps = [TLP(m.tlp) for m in members]
    levels = [Classification(m.classification) for m in members]
    return {
        "records": len(members),
        "selected": report.selected,
        "splits": {s: sum(1 for m in members if m.split == s) for s in SPLITS},
        "no_train": sum(1 for m in members if not m.train),
        "left_out": {rule: len(items) for rule, items in report.by_rule().items()},
        "license": report.license_expression(),
        "attributions": report.attributions(),
        "notices": _notices(members),
        "tlp": max(tlps, key=lambda t: t.rank).value if tlps else None,
        "classification": max(levels, key=lambda c: c.rank).value if levels else None,
        "by_domain": _by(members, "domain"),
        "by_kind": _by(members, "kind"),
        "by_lang": _by(members, "lang"),
        "by_org": {k: v["total"] for k, v in _by(members, "org").items()},
        "by_source": {k: v["total"] for k, v in _by(members, "source").items()},
        "quality": _quality(members),
        "decision_digest": report.decision_digest,
        "decision_artifact": report.decision_artifact,
    }
