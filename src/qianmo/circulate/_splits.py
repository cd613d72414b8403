"""Deterministic train/validation/test splits that never cut a lineage root or a dup cluster.

Records sharing a lineage root (everything derived from one CVE, say) or a near-duplicate
cluster are joined into one group (union-find over both keys). Groups are ordered by stratum
(top-level domain, kind, language) and, within a stratum, by a seeded hash of their smallest
record id; each in turn goes to the split furthest below its share. A group holding
a record that must not be trained on goes to a held-out split. No clock, no global RNG.

The work is done on the member columns with numpy: only the union of clustered records and the
placing of each group (an inherently sequential walk) are Python loops, over groups, not members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow.compute as pc
import xxhash

from qianmo._gc import collector_paused
from qianmo.circulate._members import SPLITS, MemberTable

__all__ = ["SPLITS", "assign_splits"]


def _find(parent: list[int], node: int) -> int:
    root = node
    while parent[root] != root:
        root = parent[root]
    while parent[node] != root:  # path compression keeps later finds short
        parent[node], node = root, parent[node]
    return root


def _group_keys(members: MemberTable) -> np.ndarray[Any, Any]:
    """For each member, a number shared exactly by the members of its group."""
    # in one buffer for the while: a dictionary encoding of a chunked array is chunked too
    roots = pc.dictionary_encode(members.roots.combine_chunks())
    root_codes = roots.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    n_roots = len(roots.dictionary)
    whole = members.clusters.combine_chunks()
    clusters = pc.dictionary_encode(whole)
    clustered = whole.is_valid().to_numpy(zero_copy_only=False)
    cluster_codes = clusters.indices.fill_null(0).to_numpy(zero_copy_only=False) + n_roots
    parent = list(range(n_roots + len(clusters.dictionary)))
    edges = np.unique(np.stack([root_codes[clustered], cluster_codes[clustered]], axis=1), axis=0)
    for a, b in edges.tolist():
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    final = np.array([_find(parent, i) for i in range(n_roots)] or [0], dtype=np.int64)
    return final[root_codes]


def _strata(members: MemberTable, first: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Each group's stratum as its rank among the sorted (top domain, kind, language)."""
    keys = [(p.domain.split(".", 1)[0], p.kind, p.lang) for p in members.profiles]
    rank = {k: i for i, k in enumerate(sorted(set(keys)))}
    by_profile = np.array([rank[k] for k in keys] or [0], dtype=np.int64)
    return by_profile[members.codes[first]]


def _pick(counts: list[int], fractions: Sequence[float], size: int, allowed: Sequence[int]) -> int:
    total = sum(counts) + size
    usable = [i for i in allowed if fractions[i] > 0] or [allowed[-1]]
    # the split furthest below its share once this group is placed; ties go to the earlier
    return max(usable, key=lambda i: (fractions[i] * total - counts[i], -i))


@collector_paused()
def assign_splits(members: MemberTable, *, seed: int, fractions: Sequence[float]) -> None:
    """Set `members.splits` (an index into `SPLITS`) for every member."""
    if not len(members):
        return
    keys = _group_keys(members)
    # members are in id order, so a group's first member is its smallest id
    _, first, labels = np.unique(keys, return_index=True, return_inverse=True)
    labels = labels.reshape(-1)
    sizes = np.bincount(labels)
    no_train = np.array([not p.train for p in members.profiles], dtype=bool)[members.codes]
    held_out = np.bincount(labels, weights=no_train).astype(bool)
    first_ids = members.rows.ids_at(first)
    hashes = np.array(
        [xxhash.xxh3_64_intdigest(f"{seed}:{rid}".encode()) for rid in first_ids], np.uint64
    )
    # Counts run across strata (systematic sampling within each): a stratum of one or two
    # groups still feeds the held-out splits, and the totals stay near their shares.
    order = np.lexsort((first, hashes, _strata(members, first)))
    counts = [0, 0, 0]
    placed = np.empty(len(first), dtype=np.int8)
    for g, size, held in zip(
        order.tolist(), sizes[order].tolist(), held_out[order].tolist(), strict=True
    ):
        i = _pick(counts, fractions, size, (1, 2) if held else (0, 1, 2))
        counts[i] += size
        placed[g] = i
    members.splits = placed[labels]
