"""A release's summary: counts by split, domain, kind, language, organisation and source,
quality statistics, licence, attributions and circulation terms. Sorted, so stable."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow.compute as pc

from qianmo._gc import collector_paused
from qianmo.circulate._check import CheckReport
from qianmo.circulate._decide import license_terms
from qianmo.circulate._members import SPLITS, MemberTable, Profile
from qianmo.standard import TLP, Classification, load_licenses


def _by(profiles: list[Profile], by_split: np.ndarray[Any, Any], key: str) -> dict[str, Any]:
    """{value: {split: n, …, "total": n}} for one profile field (`by_split`: profiles × splits)."""
    values = [str(getattr(p, key) or "(none)") for p in profiles]
    names = sorted(set(values))
    index = {v: i for i, v in enumerate(names)}
    table = np.zeros((len(names), len(SPLITS)), dtype=np.int64)
    np.add.at(table, np.array([index[v] for v in values], dtype=np.int64), by_split)
    return {
        v: {**dict(zip(SPLITS, row, strict=True)), "total": sum(row)}
        for v, row in zip(names, table.tolist(), strict=True)
        if sum(row)
    }


def _quality(members: MemberTable, profiles: list[tuple[Profile, int]]) -> dict[str, Any]:
    # A Python sum over the scores in id order: the same mean, to the last bit, as before
    scores = members.scores[~np.isnan(members.scores)].tolist()
    flags: Counter[str] = Counter()
    for p, n in profiles:
        for f in p.flags:
            flags[f] += n
    return {
        "scored": len(scores),
        "mean": round(sum(scores) / len(scores), 4) if scores else None,
        "min": min(scores) if scores else None,
        "max": max(scores) if scores else None,
        "flags": dict(sorted(flags.items())),
        "duplicate_clusters": pc.count_distinct(members.clusters).as_py(),  # nulls not counted
        "lineage_roots": pc.count_distinct(members.roots).as_py(),
    }


def _notices(profiles: list[tuple[Profile, int]]) -> list[dict[str, str]]:
    table = load_licenses()
    ids = sorted({lic for p, _ in profiles for lic in license_terms(p.license).licenses})
    return [{"license": i, "notice": table.get(i).notice} for i in ids]


@collector_paused()
def summarise(report: CheckReport) -> dict[str, Any]:
    members = report.members
    by_split = members.split_counts()
    profiles = members.profiles
    live = [(p, n) for p, n in zip(profiles, by_split.sum(axis=1).tolist(), strict=True) if n]
    tlps = [TLP(p.tlp) for p, _ in live]
    levels = [Classification(p.classification) for p, _ in live]
    totals = by_split.sum(axis=0).tolist()
    return {
        "records": len(members),
        "selected": report.selected,
        "splits": dict(zip(SPLITS, totals, strict=True)),
        "no_train": report.no_train,
        "left_out": report.left_out(),
        "license": report.license_expression(),
        "attributions": report.attributions(),
        "notices": _notices(live),
        "tlp": max(tlps, key=lambda t: t.rank).value if tlps else None,
        "classification": max(levels, key=lambda c: c.rank).value if levels else None,
        "by_domain": _by(profiles, by_split, "domain"),
        "by_kind": _by(profiles, by_split, "kind"),
        "by_lang": _by(profiles, by_split, "lang"),
        "by_org": {k: v["total"] for k, v in _by(profiles, by_split, "org").items()},
        "by_source": {k: v["total"] for k, v in _by(profiles, by_split, "source").items()},
        "quality": _quality(members, live),
        "decision_digest": report.decision_digest,
        "decision_artifact": report.decision_artifact,
    }
