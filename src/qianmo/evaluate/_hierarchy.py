"""Hierarchies of CWE, CAPEC and ATT&CK ids, read from the store's `id_relations` table."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.store import IdRelationRow

# Partial credit halves with each step up or down the hierarchy; two steps is the limit.
STEP_CREDIT = 0.5
MAX_STEPS = 2


def canonical_id(scheme: str, ident: str) -> str:
    """`79`, `cwe-79`, `CWE 79` → `CWE-79`; ATT&CK ids upper-cased."""
    ident = ident.strip().upper()
    prefix = scheme.strip().upper()
    if prefix in {"CWE", "CAPEC"}:
        m = re.fullmatch(rf"(?:{prefix}[-\s_]?)?0*(\d+)", ident)
        if m:
            return f"{prefix}-{m.group(1)}"
    return ident


@dataclass
class Hierarchy:
    """Parent links over canonical ids of every scheme (their prefixes keep them apart)."""

    parents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, scheme: str, child: str, parent: str) -> None:
        self.parents[canonical_id(scheme, child)].add(canonical_id(scheme, parent))

    def ancestors(self, ident: str) -> dict[str, int]:
        """Every ancestor within MAX_STEPS, with its distance."""
        out: dict[str, int] = {}
        frontier = {ident}
        for depth in range(1, MAX_STEPS + 1):
            frontier = {p for node in frontier for p in self.parents.get(node, ())} - out.keys()
            out.update({p: depth for p in frontier if p != ident})
        return out

    def credit(self, predicted: str, truth: str) -> float:
        """1 for the same id; less for an ancestor or descendant; 0 otherwise."""
        if predicted == truth:
            return 1.0
        steps = self.ancestors(truth).get(predicted) or self.ancestors(predicted).get(truth)
        return STEP_CREDIT**steps if steps else 0.0


def load_hierarchy(session: Session) -> Hierarchy:
    tree = Hierarchy()
    for scheme, child, parent in session.execute(
        select(IdRelationRow.scheme, IdRelationRow.child, IdRelationRow.parent)
    ):
        tree.add(scheme, child, parent)
    return tree
