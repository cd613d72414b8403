"""CWE XML catalogues (cwec_v4.x.xml): weaknesses with ChildOf/CanPrecede, CAPEC links,
consequences and mitigations; deprecated entries are marked and make no items."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qianmo.ingest.sources._common import (
    OnReject,
    Rejected,
    Relation,
    SourceError,
    SourceObject,
    build_record,
    domain_for,
    iter_files,
    join_text,
    reject_or_raise,
    section,
)
from qianmo.ingest.sources._xml import child, children, local, parse_xml, text
from qianmo.standard import Status

CWE_LICENSE = "LicenseRef-CWE"
_RELATIONS = {"ChildOf", "CanPrecede"}


def _dates(el: Any, catalog_date: str | None) -> tuple[str | None, str | None]:
    history = child(el, "Content_History")
    submitted = (
        text(next(iter(children(history, "Submission", "Submission_Date")), None))
        if history is not None
        else ""
    )
    modified = (
        [text(d) for d in children(history, "Modification", "Modification_Date")]
        if history is not None
        else []
    )
    return submitted or catalog_date, (max(modified) if modified else catalog_date)


def parse_weakness(el: Any, catalog_date: str | None, where: str) -> SourceObject:
    cwe_id = f"CWE-{el.get('ID')}"
    name = str(el.get("Name") or "")
    rel_pairs = [
        (r.get("Nature"), f"CWE-{r.get('CWE_ID')}")
        for r in children(el, "Related_Weaknesses", "Related_Weakness")
    ]
    relations = sorted(
        {Relation("cwe", cwe_id, n, p) for n, p in rel_pairs if n in _RELATIONS},
        key=lambda r: (r.relation, r.parent),
    )
    parents = sorted({r.parent for r in relations if r.relation == "ChildOf"})
    capecs = [
        f"CAPEC-{r.get('CAPEC_ID')}"
        for r in children(el, "Related_Attack_Patterns", "Related_Attack_Pattern")
    ]
    mitigations = [
        text(child(m, "Description")) for m in children(el, "Potential_Mitigations", "Mitigation")
    ]
    consequences = [
        f"{', '.join(text(s) for s in children(c, 'Scope'))}: "
        f"{', '.join(text(i) for i in children(c, 'Impact'))}"
        for c in children(el, "Common_Consequences", "Consequence")
    ]
    detection = [
        text(child(d, "Method")) for d in children(el, "Detection_Methods", "Detection_Method")
    ]
    description = text(child(el, "Description"))
    body = join_text(
        f"{cwe_id}: {name}",
        description,
        text(child(el, "Extended_Description")),
        section("Child of", parents),
        section("Common consequences", consequences),
        section("Potential mitigations", mitigations[:8]),
        section("Detection methods", detection),
        section("Related attack patterns", capecs),
    )
    status = str(el.get("Status") or "")
    retired = "deprecated upstream" if status in {"Deprecated", "Obsolete"} else None
    published, modified = _dates(el, catalog_date)
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": domain_for([cwe_id, *parents], [], "appsec"),
            "tags": [
                "cwe",
                f"abstraction:{el.get('Abstraction', '')}".lower(),
                *(["deprecated"] if retired else []),
            ],
            "content": {"title": f"{cwe_id}: {name}", "text": body},
            "refs": {"cwe": [cwe_id, *parents], "capec": capecs},
            "source": {
                "name": "cwe",
                "original_id": cwe_id,
                "license": CWE_LICENSE,
                "url": f"https://cwe.mitre.org/data/definitions/{el.get('ID')}.html",
            },
            "published_at": published,
            "valid_as_of": modified,
            **({"status": Status.WITHDRAWN.value, "status_reason": retired} if retired else {}),
        },
        f"{where}: {cwe_id}",
    )
    facts = {
        "id": cwe_id,
        "name": name,
        "description": description,
        "parents": parents,
        "capecs": capecs,
        "capec": capecs[0] if capecs else None,
        "mitigations": mitigations[:3],
        "consequences": consequences,
        "related_ids": [cwe_id, *parents],
        "lists": {"cwe": {cwe_id}},
    }
    return SourceObject(rec, facts, [] if retired else relations, withdrawn=retired)


def read_cwe(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """A CWE XML catalogue (or a folder of them); each Weakness becomes a source object."""
    for file in iter_files(Path(path), (".xml",)):
        try:
            root = parse_xml(file)
            if local(root.tag) != "Weakness_Catalog":
                raise SourceError(
                    f"not a CWE catalogue (root is {local(root.tag)})", file=str(file)
                )
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(str(e.location) or str(file), e.message))
            continue
        date = root.get("Date")
        for el in children(root, "Weaknesses", "Weakness"):
            try:
                yield parse_weakness(el, date, str(file))
            except SourceError as e:
                reject_or_raise(on_reject, Rejected(f"{file}:{el.sourceline}", e.message))
