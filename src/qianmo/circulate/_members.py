"""What a check keeps of the records it allowed and denied, as compact columns.

A release of half a million records used to keep one slotted `Member` object per allowed record
(about 0.5 kB each with its strings). Most of what a member carries (kind, language, domain,
organisation, source, licence, TLP, classification, flag names, whether it may be trained on)
repeats across thousands of records, so it is kept once as a `Profile` and each member holds
the profile's number. The values read in id order only (id, version, content hash) are kept on
disk (`_spill.py`), page by page; the quality score, lineage root and duplicate cluster, which
splits and summaries read as whole columns, stay in memory as numpy numbers and Arrow strings
(~35 bytes a member, 4 a denial). `Member` and `Denial` objects are still made on demand for
the few places that list records one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from qianmo.circulate._decide import Decision
from qianmo.circulate._spill import SCHEMA as SPILLED
from qianmo.circulate._spill import Spill, merge_sorted

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


def _strings(chunks: list[pa.Array]) -> pa.ChunkedArray:
    """The chunks as one chunked array, not copied into one buffer: the copy and the chunks were
    held together, and the allocator kept the chunks' memory once they were let go (peak RSS of
    a check of 500,000 records 282 → 251 MB, its Arrow data 37 MB either way)."""
    out = pa.chunked_array(chunks, pa.string())
    chunks.clear()
    return out


def _numbers(chunks: list[np.ndarray[Any, Any]], dtype: Any) -> np.ndarray[Any, Any]:
    out = np.concatenate(chunks) if chunks else np.zeros(0, dtype)
    chunks.clear()
    return out


class MemberTable:
    """Allowed records in id order: their identity rows on disk (`Spill`: id, version, content
    hash), the rest as columns in memory, with a profile number each.

    `splits` holds an index into `SPLITS` per member once splits are assigned (-1 before)."""

    def __init__(
        self,
        rows: Spill,
        scores: np.ndarray[Any, Any],
        roots: pa.ChunkedArray,
        clusters: pa.ChunkedArray,
        codes: np.ndarray[Any, Any],
        profiles: Sequence[Profile],
    ) -> None:
        self.rows = rows
        self.scores, self.roots, self.clusters = scores, roots, clusters  # scores: NaN = none
        self.codes = codes
        self.profiles = list(profiles)
        self.splits: np.ndarray[Any, Any] = np.full(len(codes), -1, dtype=np.int8)

    def __len__(self) -> int:
        return len(self.codes)

    def filter(self, keep: np.ndarray[Any, Any]) -> MemberTable:
        mask = pa.array(keep)
        out = MemberTable(
            self.rows.filter(keep),
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

    def decision_pages(self) -> Iterator[pa.RecordBatch]:
        """Pages of (id, version, content hash, `allow` or `allow:no-train`), in id order."""
        labels = ["allow" if p.train else "allow:no-train" for p in self.profiles]
        return _labelled(self.rows, self.codes, labels)

    def snapshot_pages(self) -> Iterator[tuple[pa.Array, ...]]:
        """Pages of (record id, version, content hash, split name), in id order."""
        for page in _labelled(self.rows, self.splits, list(SPLITS)):
            yield tuple(page.columns)

    def __iter__(self) -> Iterator[Member]:
        roots, clusters = self.roots.to_pylist(), self.clusters.to_pylist()
        for at, page in self.rows.spans():
            ids, versions, hashes = (c.to_pylist() for c in page.columns)
            for k, rid in enumerate(ids):
                i = at.start + k
                p, score = self.profiles[self.codes[i]], float(self.scores[i])
                yield Member(
                    id=rid,
                    version=versions[k],
                    content_hash=hashes[k],
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


def _labelled(
    rows: Spill, codes: np.ndarray[Any, Any], labels: list[str]
) -> Iterator[pa.RecordBatch]:
    """Each page with the label of each row's code as a fourth column."""
    names = pa.array(labels, pa.string())
    for at, page in rows.spans():
        yield page.append_column("label", names.take(pa.array(codes[at])))


class DenialTable:
    """Denied records in id order: identity rows on disk (`Spill`) and the number of their
    decision each."""

    def __init__(
        self, rows: Spill, codes: np.ndarray[Any, Any], decisions: Sequence[Decision]
    ) -> None:
        self.rows, self.codes = rows, codes
        self.decisions = list(decisions)

    def __len__(self) -> int:
        return len(self.codes)

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
        """Both tables' denials together, in id order (a merge of the two, page by page)."""
        offset = len(self.decisions)
        pages = merge_sorted(
            _coded(self.rows, self.codes), _coded(other.rows, other.codes + offset)
        )
        rows, codes = Spill(), []
        for page in pages:
            rows.append(page)
            codes.append(page.column("code").to_numpy())
        return DenialTable(
            rows.done(), _numbers(codes, np.int32), [*self.decisions, *other.decisions]
        )

    def decision_pages(self) -> Iterator[pa.RecordBatch]:
        """Pages of (id, version, content hash, the rule that left it out), in id order."""
        return _labelled(self.rows, self.codes, self.rules())

    def __iter__(self) -> Iterator[Denial]:
        for at, page in self.rows.spans():
            ids, versions, hashes = (c.to_pylist() for c in page.columns)
            for rid, v, h, code in zip(ids, versions, hashes, self.codes[at].tolist(), strict=True):
                d = self.decisions[code]
                yield Denial(rid, v, h, d.rule or "", d.reason)


def _coded(rows: Spill, codes: np.ndarray[Any, Any]) -> Iterator[pa.RecordBatch]:
    for at, page in rows.spans():
        yield page.append_column("code", pa.array(codes[at], pa.int32()))


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
    """Collects a check's rows page by page: identity rows to a `Spill`, the rest as compact
    columns."""

    def __init__(self, *, details: bool) -> None:
        self.details = details
        self.rows = Spill()
        self.roots: list[pa.Array] = []
        self.clusters: list[pa.Array] = []
        self.scores: list[np.ndarray[Any, Any]] = []
        self.codes: list[np.ndarray[Any, Any]] = []

    def add_page(self, page: PageColumns, codes: np.ndarray[Any, Any], keep: Any) -> None:
        """The rows of a page where `keep` holds."""
        if not keep.any():
            return
        mask = pa.array(keep)
        identity = [page.ids.filter(mask), pa.array(page.versions[keep]), page.hashes.filter(mask)]
        self.rows.append(pa.RecordBatch.from_arrays(identity, schema=SPILLED))
        self.codes.append(codes[keep])
        if self.details:  # denials keep only what the decision table names
            self.scores.append(page.scores[keep])
            self.roots.append(page.roots.filter(mask))
            self.clusters.append(page.clusters.filter(mask))

    def members(self, profiles: Sequence[Profile]) -> MemberTable:
        scores, codes = _numbers(self.scores, np.float64), _numbers(self.codes, np.int32)
        roots, clusters = _strings(self.roots), _strings(self.clusters)
        return MemberTable(self.rows.done(), scores, roots, clusters, codes, profiles)

    def denials(self, decisions: Sequence[Decision]) -> DenialTable:
        return DenialTable(self.rows.done(), _numbers(self.codes, np.int32), decisions)
