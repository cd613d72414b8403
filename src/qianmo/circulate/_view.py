"""`RecordView`: the plain values `decide()` and a release read from a record.

A release check reads hundreds of thousands of stored records. Validating each into a pydantic
`Record` cost about 0.6 ms a record (cProfile, 20k records: 11 of 17 s of the check), although
every stored record was validated when it was written. A view is built from the values the
database picks out of the stored JSON (`from_values`) or from a `Record` (`from_record`); both
give equal views for the same record, which `tests/circulate/test_view.py` checks over the
decision table's cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from qianmo.standard import Record

_EMPTY: dict[str, Any] = {}
# What a check picks from a stored record, in `from_values`' order: the record's identity in the
# release, then every value `decide()` reads and a release keeps of an allowed record. Not the
# content. Lineage parents and steps are picked whole; the view keeps whether there are parents
# and the step types.
PICKED_PATHS = (
    "version",
    "content_hash",
    "quality.score",
    "lineage.root",
    "kind",
    "lang",
    "domain",
    "status",
    "source.name",
    "source.org",
    "source.license",
    "source.tlp",
    "classification",
    "personal_info",
    "eval_only",
    "restrictions",
    "quality.flags",
    "lineage.parents",
    "lineage.steps",
)
_NONE: frozenset[str] = frozenset()


def picked_key(values: list[Any]) -> tuple[Any, ...]:
    """Everything `from_values` makes of `values` but the record's identity (the first four:
    version, content hash, score, lineage root), as a hashable tuple. `decide()` reads no
    identity field, so records with equal keys get equal decisions: a check decides each key
    once (`tests/circulate/test_view.py`)."""
    restrictions, flags, parents, steps = values[15:]
    return (
        *values[4:15],
        tuple(restrictions) if restrictions else None,
        # as str: orjson's bytes keep a 4 kB buffer each, which memo keys held (tracemalloc)
        orjson.dumps(flags, option=orjson.OPT_SORT_KEYS).decode() if flags else None,
        bool(parents),
        frozenset(s["type"] for s in steps) if steps else None,
    )


def picked_identity(
    ids: list[str], picked: list[list[Any]]
) -> tuple[list[int], list[str], list[float | None], list[str], list[str | None]]:
    """Versions, content hashes, scores, lineage roots (the id when there is none) and duplicate
    clusters of a page of picked values, with `from_values`' defaults."""
    return (
        [1 if v[0] is None else v[0] for v in picked],
        [v[1] or "" for v in picked],
        [v[2] for v in picked],
        [v[3] or rid for rid, v in zip(ids, picked, strict=True)],
        [_cluster(v[16]) if v[16] else None for v in picked],
    )


def _cluster(flags: dict[str, Any]) -> str | None:
    cluster = (flags.get("duplicate") or _EMPTY).get("cluster")
    return None if cluster is None else str(cluster)


@dataclass(slots=True)  # not frozen: frozen init costs ~2x, and views are never changed
class RecordView:
    id: str
    version: int
    content_hash: str
    kind: str
    lang: str
    domain: str | None
    status: str
    source_name: str
    org: str
    license: str
    tlp: str
    classification: str
    personal_info: str
    eval_only: bool
    restrictions: tuple[str, ...]
    flags: dict[str, dict[str, Any]]
    score: float | None
    root: str | None
    has_parents: bool
    step_types: frozenset[str]

    @classmethod
    def from_values(cls, rid: str, values: list[Any]) -> RecordView:
        """From the values at `PICKED_PATHS` (null when missing) of a stored record, as a check
        reads them; a missing value gets the `Record` model's default."""
        version, chash, score, root, kind, lang, domain, status, name, org, lic, tlp = values[:12]
        cls_, pi, ev, rs, flags, parents, steps = values[12:]
        return cls(
            id=rid,
            version=1 if version is None else version,
            content_hash=chash or "",
            kind=kind,
            lang="und" if lang is None else lang,
            domain=domain or None,
            status="raw" if status is None else status,
            source_name=name,
            org=org or "",
            license="LicenseRef-unknown" if lic is None else lic,
            tlp="CLEAR" if tlp is None else tlp,
            classification="general" if cls_ is None else cls_,
            personal_info="unknown" if pi is None else pi,
            eval_only=bool(ev),
            restrictions=tuple(rs or ()),
            flags=flags or _EMPTY,
            score=score,
            root=root,
            has_parents=bool(parents),
            step_types=frozenset(s["type"] for s in steps) if steps else _NONE,
        )

    @classmethod
    def from_record(cls, record: Record) -> RecordView:
        return cls(
            id=record.id,
            version=record.version,
            content_hash=record.content_hash,
            kind=record.kind.value,
            lang=record.lang,
            domain=record.domain if record.domain else None,
            status=record.status.value,
            source_name=record.source.name,
            org=record.source.org or "",
            license=record.source.license,
            tlp=record.source.tlp.value,
            classification=record.classification.value,
            personal_info=record.personal_info.value,
            eval_only=record.eval_only,
            restrictions=tuple(record.restrictions),
            flags=record.quality.flags,
            score=record.quality.score,
            root=record.lineage.root,
            has_parents=bool(record.lineage.parents),
            step_types=frozenset(s.type for s in record.lineage.steps),
        )


def as_view(record: Record | RecordView) -> RecordView:
    return record if isinstance(record, RecordView) else RecordView.from_record(record)
