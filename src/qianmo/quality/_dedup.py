"""`exact_dedup` and `near_dedup`: clusters, one representative per visibility scope.

Only within one scope (organisation and TLP level) is a duplicate rejected. Across scopes it
is linked to the cluster and kept: rejecting org A's copy in favour of org B's AMBER+STRICT
one would hide A's data from A and reveal B's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from qianmo.quality._minhash import (
    Exact,
    MinHasher,
    band_keys,
    candidate_pairs,
    components,
    exact_jaccard,
    ngram_hashes_of_tokens,
    optimal_bands,
    verify,
)
from qianmo.quality._step import CorpusStep, Decision, StepOptions, register_step
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


@register_step
class ExactDedup(CorpusStep):
    name = "exact_dedup"

    def summarize(self, records: Sequence[Record]) -> list[tuple[str, Any]]:
        return [(r.id, (r.content_hash, Member.of(r))) for r in records]

    def decide(self, summaries: list[Any]) -> dict[str, Decision]:
        groups: dict[str, list[Member]] = defaultdict(list)
        for key, member in summaries:
            groups[key].append(member)
        out: dict[str, Decision] = {}
        for members in groups.values():
            if len(members) > 1:
                out.update(cluster_decisions(members, self.name))
        return out


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

    def decide(self, summaries: list[Any]) -> dict[str, Decision]:
        o = self.options
        assert isinstance(o, NearDedupOptions)
        if len(summaries) < 2:
            return {}
        members = [m for m, _ in summaries]
        sig = np.stack([s for _, s in summaries])
        exact = None
        if self.load is not None:
            load = self.load

            def shingles_of(rows: list[int]) -> list[np.ndarray]:
                held = load([members[i].id for i in rows])
                texts = [held[members[i].id].text() for i in rows]
                return shingles_many(texts, o.word_ngram, o.char_ngram)

            def exact(pairs: np.ndarray) -> np.ndarray:
                return exact_jaccard(pairs, shingles_of)

        labels = near_clusters(sig, o.threshold, exact)
        groups: dict[int, list[Member]] = defaultdict(list)
        for i, label in enumerate(labels.tolist()):
            groups[label].append(members[i])
        out: dict[str, Decision] = {}
        for group in groups.values():
            if len(group) > 1:
                out.update(cluster_decisions(group, self.name))
        return out


def near_clusters(sig: np.ndarray, threshold: float, exact: Exact | None = None) -> np.ndarray:
    """Cluster labels from global LSH banding over every signature, verified pairs only
    (borderline ones on their shingles, when `exact` can measure them)."""
    bands, rows = optimal_bands(threshold, sig.shape[1])
    valid = ~(sig == np.iinfo(np.uint32).max).all(axis=1)
    pairs = candidate_pairs(band_keys(sig, bands, rows), valid)
    return components(len(sig), verify(sig, pairs, threshold, exact))
