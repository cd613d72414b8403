"""What a check keeps of the records it allowed and denied, as compact columns.

A release of half a million records used to keep one slotted `Member` object per allowed record
(about 0.5 kB each with its strings). Most of what a member carries (kind, language, domain,
organisation, source, licence, TLP, classification, flag names, whether it may be trained on)
repeats across thousands of records, so it is kept once as a `Profile` and each member holds
the profile's number. The per-record values (id, version, content hash, quality score, lineage
root, duplicate cluster) are Arrow strings and numpy numbers: about 100 bytes a member.
`Member` and `Denial` objects are still made on demand for the few places that list records
one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from qianmo.circulate._decide import Decision
from qianmo.circulate._lines import Labelled

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True, slots=True)
class Profile:
    """The values an allowed record shares with many others."""

    kind: str
    lang: str
    domain: str
    org: str
    source: str
    license: str
    tlp: str
    classification: str
    flags: tuple[str, ...]
    train: bool


@dataclass(slots=True)
class Member:
    """One allowed record, as listed (no content)."""

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


def _strings(chunks: list[pa.Array]) -> pa.Array:
    """One array of the chunks, which are let go (the builder is not held twice over)."""
    out = pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())
    chunks.clear()
    return out


def _numbers(chunks: list[np.ndarray[Any, Any]], dtype: Any) -> np.ndarray[Any, Any]:
    out = np.concatenate(chunks) if chunks else np.zeros(0, dtype)
    chunks.clear()
    return out


class MemberTable:
    """Allowed records in id order: identity columns plus a profile number each.

    `splits` holds an index into `SPLITS` per member once splits are assigned (-1 before)."""

    def __init__(
        self,
        ids: pa.Array,
        versions: np.ndarray[Any, Any],
        hashes: pa.Array,
        scores: np.ndarray[Any, Any],
        roots: pa.Array,
        clusters: pa.Array,
        codes: np.ndarray[Any, Any],
        profiles: Sequence[Profile],
    ) -> None:
        self.ids, self.versions, self.hashes = ids, versions, hashes
        self.scores, self.roots, self.clusters = scores, roots, clusters  # scores: NaN = none
        self.codes = codes
        self.profiles = list(profiles)
        self.splits: np.ndarray[Any, Any] = np.full(len(ids), -1, dtype=np.int8)

    def __len__(self) -> int:
        return len(self.ids)

    def filter(self, keep: np.ndarray[Any, Any]) -> MemberTable:
        mask = pa.array(keep)
        out = MemberTable(
            self.ids.filter(mask),
            self.versions[keep],
            self.hashes.filter(mask),
            self.scores[keep],
            self.roots.filter(mask),
            self.clusters.filter(mask),
            self.codes[keep],
            self.profiles,
        )
        out.splits = self.splits[keep]
        return out

    def profile_counts(self) -> np.ndarray[Any, Any]:
        """How many members hold each profile."""
        return np.bincount(self.codes, minlength=len(self.profiles))

    def split_counts(self) -> np.ndarray[Any, Any]:
        """Members by profile and split: shape (profiles, splits)."""
        if (self.splits < 0).any():
            raise ValueError("splits are not assigned yet")
        cells = self.codes.astype(np.int64) * len(SPLITS) + self.splits
        counts = np.bincount(cells, minlength=len(self.profiles) * len(SPLITS))
        return counts.reshape(len(self.profiles), len(SPLITS))

    @property
    def no_train(self) -> int:
        counts = self.profile_counts()
        return int(sum(n for p, n in zip(self.profiles, counts, strict=True) if not p.train))

    def labelled(self) -> Labelled:
        """The decision table's columns: `allow` or `allow:no-train` for each member."""
        labels = ["allow" if p.train else "allow:no-train" for p in self.profiles]
        return self.ids, self.versions, self.hashes, self.codes, labels

    def snapshot_columns(self, start: int, stop: int) -> tuple[pa.Array, ...]:
        """Record ids, versions, content hashes and split names of members start..stop."""
        splits = pa.array(SPLITS, pa.string()).take(pa.array(self.splits[start:stop]))
        versions = pa.array(self.versions[start:stop])
        return self.ids[start:stop], versions, self.hashes[start:stop], splits

    def __iter__(self) -> Iterator[Member]:
        ids, hashes, roots = self.ids.to_pylist(), self.hashes.to_pylist(), self.roots.to_pylist()
        clusters = self.clusters.to_pylist()
        for i, rid in enumerate(ids):
            p, score = self.profiles[self.codes[i]], float(self.scores[i])
            yield Member(
                id=rid,
                version=int(self.versions[i]),
                content_hash=hashes[i],
                kind=p.kind,
                lang=p.lang,
                domain=p.domain,
                root=roots[i],
                cluster=clusters[i],
                train=p.train,
                license=p.license,
                org=p.org,
                source=p.source,
                score=None if np.isnan(score) else score,
                flags=p.flags,
                tlp=p.tlp,
                classification=p.classification,
                split=SPLITS[self.splits[i]] if self.splits[i] >= 0 else "",
            )


class DenialTable:
    """Denied records in id order: identity columns plus the number of their decision."""

    def __init__(
        self,
        ids: pa.Array,
        versions: np.ndarray[Any, Any],
        hashes: pa.Array,
        codes: np.ndarray[Any, Any],
        decisions: Sequence[Decision],
    ) -> None:
        self.ids, self.versions, self.hashes, self.codes = ids, versions, hashes, codes
        self.decisions = list(decisions)

    def __len__(self) -> int:
        return len(self.ids)

    def rules(self) -> list[str]:
        return [d.rule or "" for d in self.decisions]

    def counts_by_rule(self) -> dict[str, int]:
        counts = np.bincount(self.codes, minlength=len(self.decisions))
        out: dict[str, int] = {}
        for decision, n in zip(self.decisions, counts, strict=True):
            if n:
                out[decision.rule or ""] = out.get(decision.rule or "", 0) + int(n)
        return dict(sorted(out.items()))

    def merged(self, other: DenialTable) -> DenialTable:
        """Both tables' denials together, in id order."""
        offset = len(self.decisions)
        ids = pa.concat_arrays([self.ids, other.ids])
        order = pc.sort_indices(ids).to_numpy()
        return DenialTable(
            ids.take(pa.array(order)),
            np.concatenate([self.versions, other.versions])[order],
            pa.concat_arrays([self.hashes, other.hashes]).take(pa.array(order)),
            np.concatenate([self.codes, other.codes + offset])[order],
            [*self.decisions, *other.decisions],
        )

    def labelled(self) -> Labelled:
        """The decision table's columns: the rule that left each record out."""
        return self.ids, self.versions, self.hashes, self.codes, self.rules()

    def __iter__(self) -> Iterator[Denial]:
        ids, hashes = self.ids.to_pylist(), self.hashes.to_pylist()
        for i, rid in enumerate(ids):
            d = self.decisions[self.codes[i]]
            yield Denial(rid, int(self.versions[i]), hashes[i], d.rule or "", d.reason)


@dataclass(slots=True)
class PageColumns:
    """A page of picked values (`RecordView.from_values`) as the identity columns a table keeps."""

    ids: pa.Array
    versions: np.ndarray[Any, Any]
    hashes: pa.Array
    scores: np.ndarray[Any, Any]  # NaN stands for no score
    roots: pa.Array
    clusters: pa.Array

    @classmethod
    def of(cls, ids: list[str], picked: list[tuple[Any, ...]]) -> PageColumns:
        """With `RecordView.from_values`' defaults: version 1, the id as the lineage root.

        Only the first five (identity) values are read, a column at a time: transposing the
        whole page made all 17 columns and cost 9 ms CPU for 10,000 rows; this costs 2.4."""
        versions, hashes, scores, roots, clusters = ([v[k] for v in picked] for k in range(5))
        return cls(
            pa.array(ids, pa.string()),
            np.array([1 if v is None else v for v in versions], dtype=np.int64),
            pa.array([h or "" for h in hashes], pa.string()),
            np.array(scores, dtype=np.float64),
            pa.array([r or i for r, i in zip(roots, ids, strict=True)], pa.string()),
            pa.array(clusters, pa.string()),
        )


class TableBuilder:
    """Collects a check's rows page by page and turns each page into compact columns."""

    def __init__(self, *, details: bool) -> None:
        self.details = details
        self.ids: list[pa.Array] = []
        self.hashes: list[pa.Array] = []
        self.roots: list[pa.Array] = []
        self.clusters: list[pa.Array] = []
        self.versions: list[np.ndarray[Any, Any]] = []
        self.scores: list[np.ndarray[Any, Any]] = []
        self.codes: list[np.ndarray[Any, Any]] = []

    def add_page(self, page: PageColumns, codes: np.ndarray[Any, Any], keep: Any) -> None:
        """The rows of a page where `keep` holds."""
        if not keep.any():
            return
        mask = pa.array(keep)
        self.ids.append(page.ids.filter(mask))
        self.versions.append(page.versions[keep])
        self.hashes.append(page.hashes.filter(mask))
        self.codes.append(codes[keep])
        if self.details:  # denials keep only what the decision table names
            self.scores.append(page.scores[keep])
            self.roots.append(page.roots.filter(mask))
            self.clusters.append(page.clusters.filter(mask))

    def _common(self) -> tuple[pa.Array, Any, pa.Array, Any]:
        versions, codes = _numbers(self.versions, np.int64), _numbers(self.codes, np.int32)
        return _strings(self.ids), versions, _strings(self.hashes), codes

    def members(self, profiles: Sequence[Profile]) -> MemberTable:
        ids, versions, hashes, codes = self._common()
        scores = _numbers(self.scores, np.float64)
        roots, clusters = _strings(self.roots), _strings(self.clusters)
        return MemberTable(ids, versions, hashes, scores, roots, clusters, codes, profiles)

    def denials(self, decisions: Sequence[Decision]) -> DenialTable:
        ids, versions, hashes, codes = self._common()
        return DenialTable(ids, versions, hashes, codes, decisions)
