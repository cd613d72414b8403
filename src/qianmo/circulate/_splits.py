"""Deterministic train/validation/test splits that never cut a lineage root or a dup cluster.

Records sharing a lineage root (everything derived from one CVE, say) or a near-duplicate
cluster are joined into one group (union-find over both keys). Groups are ordered by stratum
(top-level domain, kind, language) and, within a stratum, by a seeded hash of their smallest
record id; each in turn goes to the split furthest below its share. A group holding
a record that must not be trained on goes to a held-out split. No clock, no global RNG.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import xxhash

from qianmo.circulate._check import Member
from qianmo.circulate._gc import collector_paused

SPLITS = ("train", "validation", "test")


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        root = key
        while (up := self.parent.setdefault(root, root)) != root:
            root = up
        while key != root:  # path compression keeps later finds short
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_members(members: Sequence[Member]) -> list[list[Member]]:
    """Members joined by shared lineage root or duplicate cluster, each group sorted by id."""
    uf = _UnionFind()
    for m in members:
        if m.cluster is not None:
            uf.union(f"r:{m.root}", f"c:{m.cluster}")
        else:
            uf.find(f"r:{m.root}")
    groups: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        groups[uf.find(f"r:{m.root}")].append(m)
    out = [sorted(g, key=lambda m: m.id) for g in groups.values()]
    out.sort(key=lambda g: g[0].id)
    return out


def _stratum(m: Member) -> tuple[str, str, str]:
    return (m.domain.split(".", 1)[0], m.kind, m.lang)


def _pick(counts: list[int], fractions: Sequence[float], size: int, allowed: Sequence[int]) -> int:
    total = sum(counts) + size
    usable = [i for i in allowed if fractions[i] > 0] or [allowed[-1]]
    # the split furthest below its share once this group is placed; ties go to the earlier
    return max(usable, key=lambda i: (fractions[i] * total - counts[i], -i))


@collector_paused()
def assign_splits(members: Sequence[Member], *, seed: int, fractions: Sequence[float]) -> None:
    """Set `split` on every member."""
    strata: dict[tuple[str, str, str], list[list[Member]]] = defaultdict(list)
    for group in group_members(members):
        strata[_stratum(group[0])].append(group)
    # Counts run across strata (systematic sampling within each): a stratum of one or two
    # groups still feeds the held-out splits, and the totals stay near their shares.
    counts = [0, 0, 0]
    for key in sorted(strata):
        groups = sorted(
            strata[key], key=lambda g: xxhash.xxh3_64_intdigest(f"{seed}:{g[0].id}".encode())
        )
        for group in groups:
            held_out = any(not m.train for m in group)
            i = _pick(counts, fractions, len(group), (1, 2) if held_out else (0, 1, 2))
            counts[i] += len(group)
            for m in group:
                m.split = SPLITS[i]
