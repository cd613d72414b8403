"""`exact_dedup` and `near_dedup`: clusters, one representative per visibility scope.

Only within one scope (organisation and TLP level) is a duplicate rejected. Across scopes it
is linked to the cluster and kept: rejecting org A's copy in favour of org B's AMBER+STRICT
one would hide A's data from A and reveal B's.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from qianmo.quality._minhash import (
    U32_MAX,
    Exact,
    MinHasher,
    exact_jaccard,
    near_groups,
    ngram_hashes_of_tokens,
)
from qianmo.quality._scratch import Scratch, Spill
from qianmo.quality._step import Collector, CorpusStep, Decision, StepOptions, register_step
from qianmo.quality._text import is_mostly_cjk
from qianmo.quality._tokenhash import token_hashes_of_texts
from qianmo.standard import Record


@dataclass(frozen=True)
class Member:
    """What dedup needs of a record: who sees it, how good and how recent it is."""

    id: str
    scope: str
    score: float
    recency: str
    cluster: str | None

    @classmethod
    def of(cls, record: Record) -> Member:
        # undated sorts as oldest
        published = record.published_at.isoformat() if record.published_at else "0000"
        dup = record.quality.flags.get("duplicate") or {}
        return cls(
            id=record.id,
            scope=f"{record.source.org or ''}|{record.source.tlp.value}",
            score=record.quality.score or 0.0,
            recency=f"{published}|{record.id}",
            cluster=dup.get("cluster"),
        )


def cluster_decisions(members: Sequence[Member], step: str) -> dict[str, Decision]:
    """Flag every member with the cluster; reject all but the best in each scope.

    The cluster id is one a member already carries (so reruns keep it), else one derived
    from its earliest member.
    """
    existing = sorted(m.cluster for m in members if m.cluster)
    cluster = existing[0] if existing else f"dup-{min(m.id for m in members)}"
    by_scope: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        by_scope[m.scope].append(m)
    out: dict[str, Decision] = {}
    for group in by_scope.values():
        best = max(group, key=lambda m: (m.score, m.recency))
        for m in group:
            flag = {"cluster": cluster, "representative": best.id, "resolved": True}
            out[m.id] = Decision(
                flags={"duplicate": flag},
                reject=None if m is best else f"{step}:duplicate",
                detail={"cluster": cluster, "representative": best.id},
            )
    return out


_MEMBER = "id, scope, score, recency, cluster"


class _Members:
    """The members of one dedup step's records in the run's scratch database, numbered in
    the order they came (0, 1, …), with extra columns of the step's own."""

    def __init__(self, scratch: Scratch, extra: tuple[str, ...] = ()) -> None:
        self.scratch = scratch
        self.extra = extra
        columns = "id TEXT, scope TEXT, score REAL, recency TEXT, cluster TEXT"
        self.table = scratch.table(", ".join([columns, *(f"{c} TEXT" for c in extra)]))
        self.count = 0

    def add(self, members: Sequence[Member], extra: Sequence[tuple[Any, ...]] = ()) -> None:
        start = self.count
        rows = [
            (start + k, m.id, m.scope, m.score, m.recency, m.cluster, *(extra[k] if extra else ()))
            for k, m in enumerate(members)
        ]
        marks = ", ".join("?" * (6 + len(self.extra)))
        self.scratch.insert(f"INSERT INTO {self.table} VALUES ({marks})", rows)
        self.count += len(rows)

    def dead(self, rejected: Collection[str]) -> np.ndarray:
        """True for the rows of records rejected earlier in the pass."""
        mask = np.zeros(self.count, dtype=bool)
        if rejected:
            for n, rid in self.scratch.db.execute(f"SELECT n, id FROM {self.table}"):
                if rid in rejected:
                    mask[n] = True
        return mask

    def get(self, rows: Sequence[int], extra: str = "") -> dict[int, tuple[Any, ...]]:
        return self.scratch.rows(self.table, _MEMBER + (f", {extra}" if extra else ""), rows)


def _decisions(groups: Sequence[Sequence[Member]], step: str) -> dict[str, Decision]:
    out: dict[str, Decision] = {}
    for members in groups:
        if len(members) > 1:
            out.update(cluster_decisions(members, step))
    return out


class _ExactCollector(Collector):
    """Content hashes and members on disk; in memory an 8-byte hash of each content hash,
    sorted at the decision to find the groups (then compared in full)."""

    def __init__(self, scratch: Scratch) -> None:
        self.members = _Members(scratch, ("key",))
        self.prefixes: list[np.ndarray] = []

    def add(self, part: list[tuple[str, Any]]) -> None:
        keys = [key for _, (key, _) in part]
        self.members.add([m for _, (_, m) in part], [(k,) for k in keys])
        # Python's string hash: stable within this process, which is all this needs
        self.prefixes.append(np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys)))

    def decide(self, step: CorpusStep, dead: Collection[str]) -> dict[str, Decision]:
        prefixes = np.concatenate(self.prefixes) if self.prefixes else np.empty(0, np.int64)
        live = np.flatnonzero(~self.members.dead(dead))
        order = live[np.argsort(prefixes[live], kind="stable")]
        keys = prefixes[order]
        repeated = np.zeros(len(keys), dtype=bool)
        same = keys[1:] == keys[:-1]
        repeated[1:] |= same
        repeated[:-1] |= same
        groups: dict[str, list[Member]] = defaultdict(list)
        held = self.members.get(order[repeated].tolist(), "key")
        for n in sorted(held):
            row = held[n]
            groups[row[5]].append(Member(*row[:5]))
        return _decisions(list(groups.values()), step.name)

    def close(self) -> None:
        self.prefixes = []


@register_step
class ExactDedup(CorpusStep):
    name = "exact_dedup"

    def summarize(self, records: Sequence[Record]) -> list[tuple[str, Any]]:
        return [(r.id, (r.content_hash, Member.of(r))) for r in records]

    def collector(self, scratch: Scratch) -> Collector:
        return _ExactCollector(scratch)

    def decide(self, summaries: list[Any]) -> dict[str, Decision]:
        groups: dict[str, list[Member]] = defaultdict(list)
        for key, member in summaries:
            groups[key].append(member)
        return _decisions(list(groups.values()), self.name)


class NearDedupOptions(StepOptions):
    threshold: float = Field(0.8, gt=0, le=1, description="estimated Jaccard to be duplicates")
    num_perm: int = Field(128, ge=16, le=1024)
    word_ngram: int = Field(5, ge=1, description="shingle size in words (space-delimited text)")
    char_ngram: int = Field(5, ge=1, description="shingle size in characters (Chinese)")
    seed: int = 1


def shingles(text: str, word_ngram: int, char_ngram: int) -> np.ndarray:
    """Word n-grams, or character n-grams for mostly-Chinese text, as 64-bit hashes."""
    return shingles_many([text], word_ngram, char_ngram)[0]


def shingles_many(texts: Sequence[str], word_ngram: int, char_ngram: int) -> list[np.ndarray]:
    """`shingles` of many texts, hashed together per n-gram size."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        groups[char_ngram if is_mostly_cjk(text) else word_ngram].append(i)
    out: list[np.ndarray] = [np.empty(0, dtype=np.uint64)] * len(texts)
    for n, idx in groups.items():
        hashes = ngram_hashes_of_tokens(token_hashes_of_texts([texts[i] for i in idx]), n)
        for i, h in zip(idx, hashes, strict=True):
            out[i] = h
    return out


@register_step
class NearDedup(CorpusStep):
    name = "near_dedup"
    Options = NearDedupOptions

    def _hasher(self) -> MinHasher:
        o = self.options
        assert isinstance(o, NearDedupOptions)
        return MinHasher(o.num_perm, o.seed)

    def summarize(self, records: Sequence[Record]) -> list[tuple[str, Any]]:
        o = self.options
        assert isinstance(o, NearDedupOptions)
        texts = [r.text() for r in records]
        sigs = self._hasher().signatures(shingles_many(texts, o.word_ngram, o.char_ngram))
        return [(r.id, (Member.of(r), sigs[i])) for i, r in enumerate(records)]

    def collector(self, scratch: Scratch) -> Collector:
        o = self.options
        assert isinstance(o, NearDedupOptions)
        return _NearCollector(scratch, o.num_perm)

    def shingle_loader(self, ids_of: Callable[[list[int]], list[str]]) -> Exact | None:
        """True Jaccard of pairs of rows, from the records' texts read again from the store."""
        o = self.options
        assert isinstance(o, NearDedupOptions)
        if self.load is None:
            return None
        load = self.load

        def shingles_of(rows: list[int]) -> list[np.ndarray]:
            ids = ids_of(rows)
            held = load(ids)
            return shingles_many([held[i].text() for i in ids], o.word_ngram, o.char_ngram)

        def exact(pairs: np.ndarray) -> np.ndarray:
            return exact_jaccard(pairs, shingles_of)

        return exact

    def decide(self, summaries: list[Any]) -> dict[str, Decision]:
        o = self.options
        assert isinstance(o, NearDedupOptions)
        if len(summaries) < 2:
            return {}
        members = [m for m, _ in summaries]
        sig = np.stack([s for _, s in summaries])
        exact = self.shingle_loader(lambda rows: [members[i].id for i in rows])
        labels = near_clusters(sig, o.threshold, exact)
        groups: dict[int, list[Member]] = defaultdict(list)
        for i, label in enumerate(labels.tolist()):
            groups[label].append(members[i])
        return _decisions(list(groups.values()), self.name)


class _NearCollector(Collector):
    """Members in the scratch database, signatures in a flat file beside it (512 bytes a
    record, never all in memory: the banding reads them one band at a time). The row numbers
    of empty signatures (texts without shingles) are noted as they come: they are few."""

    def __init__(self, scratch: Scratch, num_perm: int) -> None:
        self.members = _Members(scratch)
        path = os.path.join(scratch.path, f"{self.members.table}.sig")
        self.sigs = Spill(path, num_perm, np.uint32)
        self.empty: list[np.ndarray] = []

    def add(self, part: list[tuple[str, Any]]) -> None:
        if part:
            block = np.stack([sig for _, (_, sig) in part])
            self.empty.append(self.sigs.rows + np.flatnonzero((block == U32_MAX).all(axis=1)))
            self.members.add([m for _, (m, _) in part])
            self.sigs.append(block)

    def decide(self, step: CorpusStep, dead: Collection[str]) -> dict[str, Decision]:
        assert isinstance(step, NearDedup)
        o = step.options
        assert isinstance(o, NearDedupOptions)
        valid = ~self.members.dead(dead)
        if self.empty:  # no shingles: never a candidate
            valid[np.concatenate(self.empty)] = False
        if valid.sum() < 2:
            return {}

        def ids_of(rows: list[int]) -> list[str]:
            held = self.members.get(rows)
            return [held[r][0] for r in rows]

        exact = step.shingle_loader(ids_of)
        found = near_groups(self.sigs.read, self.sigs.take, valid, o.num_perm, o.threshold, exact)
        held = self.members.get(np.concatenate(found).tolist() if found else [])
        groups = [[Member(*held[n]) for n in group.tolist()] for group in found]
        return _decisions(groups, step.name)

    def close(self) -> None:
        self.sigs.close()


def near_clusters(sig: np.ndarray, threshold: float, exact: Exact | None = None) -> np.ndarray:
    """Cluster labels (a cluster's smallest row) from global LSH banding over every
    signature, verified pairs only (borderline ones on their shingles, when `exact` can
    measure them): `near_groups` over signatures in memory."""
    valid = ~(sig == U32_MAX).all(axis=1)
    labels = np.arange(len(sig))
    for group in near_groups(
        lambda s, e: sig[s:e], lambda rows: sig[rows], valid, sig.shape[1], threshold, exact
    ):
        labels[group] = group.min()
    return labels
