"""`RecordView`: the plain values `decide()` and a release read from a record.

A release check reads hundreds of thousands of stored records. Validating each into a pydantic
`Record` cost about 0.6 ms a record (cProfile, 20k records: 11 of 17 s of the check), although
every stored record was validated when it was written; picking the values out of the stored JSON
in the database still cost half of a check. A view is built from the record's row columns
(`from_values`; restrictions, flags and lineage come from its `policy_inputs` column) or from a
`Record` (`from_record`); both give equal views for the same record, which
`tests/circulate/test_view.py` checks over the decision table's cases. A view's flags keep only
what a decision reads of them (`decision_flags`: each name with its resolved and redacted marks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qianmo.standard import Record
from qianmo.store import decision_flags, read_policy_inputs

# The records-row columns a check reads, in `from_values`' order after the id: the record's
# identity in the release (the first five), then every value `decide()` reads. Not the content.
PICKED_COLUMNS = (
    "version",
    "content_hash",
    "quality_score",
    "lineage_root",
    "dup_cluster",
    "kind",
    "lang",
    "domain",
    "status",
    "source_name",
    "org",
    "license",
    "tlp",
    "classification",
    "personal_info",
    "eval_only",
    "policy_inputs",
)
IDENTITY = 5  # how many of the picked columns are the record's identity, not decision inputs


def picked_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Everything `from_values` makes of `values` but the record's identity (version, content
    hash, score, lineage root, duplicate cluster). `decide()` reads no identity field, so records
    with equal keys get equal decisions: a check decides each key once
    (`tests/circulate/test_view.py`)."""
    return values[IDENTITY:]


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
    def from_values(cls, rid: str, values: tuple[Any, ...]) -> RecordView:
        """From the values of `PICKED_COLUMNS` of a stored record's row, as a check reads them;
        a missing value gets the `Record` model's default."""
        version, chash, score, root, _, kind, lang, domain, status, name, org, lic = values[:12]
        tlp, cls_, pi, ev, policy = values[12:]
        rs, flags, parents, steps = read_policy_inputs(policy)
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
            restrictions=rs,
            flags=flags,
            score=score,
            root=root,
            has_parents=parents,
            step_types=steps,
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
            flags=decision_flags(record.quality.flags),
            score=record.quality.score,
            root=record.lineage.root,
            has_parents=bool(record.lineage.parents),
            step_types=frozenset(s.type for s in record.lineage.steps),
        )


def as_view(record: Record | RecordView) -> RecordView:
    return record if isinstance(record, RecordView) else RecordView.from_record(record)
