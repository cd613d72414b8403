"""CAPEC attack patterns from the XML catalogue or the CAPEC STIX bundle: CWE and ATT&CK links,
ChildOf/CanPrecede/CanFollow/PeerOf relations, severity and likelihood."""

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
from qianmo.ingest.sources._stix import clean, external_id, external_ids, load_stix, urls
from qianmo.ingest.sources._xml import child, children, local, parse_xml, text
from qianmo.standard import Status

CAPEC_LICENSE = "CAPEC-tou"
_RELATIONS = {"ChildOf", "CanPrecede", "CanFollow", "PeerOf"}
_STIX_RELATIONS = {
    "x_capec_child_of_refs": "ChildOf",
    "x_capec_can_precede_refs": "CanPrecede",
    "x_capec_can_follow_refs": "CanFollow",
    "x_capec_peer_of_refs": "PeerOf",
}


def _technique(entry: str) -> str:
    entry = entry.strip()
    return entry if entry.startswith("T") else f"T{entry}"


def capec_object(fields: dict[str, Any], where: str) -> SourceObject:
    """The source object of one pattern, from fields both formats provide."""
    cid, name = fields["id"], fields["name"]
    relations = [Relation("capec", cid, n, p) for n, p in fields["relations"]]
    parents = sorted({p for n, p in fields["relations"] if n == "ChildOf"})
    body = join_text(
        f"{cid}: {name}",
        fields["description"],
        f"Likelihood of attack: {fields['likelihood']}" if fields["likelihood"] else "",
        f"Typical severity: {fields['severity']}" if fields["severity"] else "",
        section("Prerequisites", fields["prerequisites"]),
        section("Child of", parents),
        section("Related weaknesses", fields["cwes"]),
        section("ATT&CK", fields["attack"]),
        section("Mitigations", fields["mitigations"]),
        section("References", fields["urls"]),
    )
    retired = "deprecated upstream" if fields["status"] in {"Deprecated", "Obsolete"} else None
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": domain_for(fields["cwes"], [], "vuln.exploit"),
            "tags": ["capec", *(["deprecated"] if retired else [])],
            "content": {"title": f"{cid}: {name}", "text": body},
            "refs": {
                "capec": [cid, *parents],
                "cwe": fields["cwes"],
                "attack": fields["attack"],
                "urls": fields["urls"],
            },
            "source": {
                "name": "capec",
                "original_id": cid,
                "license": CAPEC_LICENSE,
                "url": f"https://capec.mitre.org/data/definitions/{cid.split('-')[1]}.html",
            },
            "published_at": fields["published"],
            "valid_as_of": fields["modified"],
            **({"status": Status.WITHDRAWN.value, "status_reason": retired} if retired else {}),
        },
        f"{where}: {cid}",
    )
    facts = {
        "id": cid,
        "name": name,
        "description": fields["description"],
        "cwes": fields["cwes"],
        "parents": parents,
        "severity": fields["severity"],
        "attack": fields["attack"],
        "likelihood": fields["likelihood"],
        "related_ids": [cid, *parents],
        "lists": {"capec": {cid}},
    }
    return SourceObject(rec, facts, [] if retired else relations, withdrawn=retired)


def _xml_fields(el: Any, date: str | None) -> dict[str, Any]:
    rels = [
        (r.get("Nature"), f"CAPEC-{r.get('CAPEC_ID')}")
        for r in children(el, "Related_Attack_Patterns", "Related_Attack_Pattern")
    ]
    attack = [
        _technique(text(child(m, "Entry_ID")))
        for m in children(el, "Taxonomy_Mappings", "Taxonomy_Mapping")
        if m.get("Taxonomy_Name") == "ATTACK" and child(m, "Entry_ID") is not None
    ]
    return {
        "id": f"CAPEC-{el.get('ID')}",
        "name": str(el.get("Name") or ""),
        "status": str(el.get("Status") or ""),
        "description": text(child(el, "Description")),
        "likelihood": text(child(el, "Likelihood_Of_Attack")),
        "severity": text(child(el, "Typical_Severity")),
        "prerequisites": [text(p) for p in children(el, "Prerequisites", "Prerequisite")],
        "relations": sorted({(n, p) for n, p in rels if n in _RELATIONS}),
        "cwes": [
            f"CWE-{w.get('CWE_ID')}" for w in children(el, "Related_Weaknesses", "Related_Weakness")
        ],
        "attack": attack,
        "mitigations": [text(m) for m in children(el, "Mitigations", "Mitigation")][:8],
        "urls": [],
        "published": date,
        "modified": date,
    }


def _read_xml(file: Path, on_reject: OnReject | None) -> Iterator[SourceObject]:
    root = parse_xml(file)
    if local(root.tag) != "Attack_Pattern_Catalog":
        raise SourceError(f"not a CAPEC catalogue (root is {local(root.tag)})", file=str(file))
    for el in children(root, "Attack_Patterns", "Attack_Pattern"):
        try:
            yield capec_object(_xml_fields(el, root.get("Date")), str(file))
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(f"{file}:{el.sourceline}", e.message))


def _stix_fields(obj: Any, by_id: dict[str, Any], mitigations: list[str]) -> dict[str, Any]:
    rels = []
    for key, nature in _STIX_RELATIONS.items():
        for ref in obj.get(key) or []:
            target = by_id.get(ref)
            if target is not None and (tid := external_id(target, "capec")):
                rels.append((nature, tid))
    return {
        "id": external_id(obj, "capec"),
        "name": str(obj.get("name")),
        "status": str(obj.get("x_capec_status") or ""),
        "description": clean(obj.get("description")),
        "likelihood": str(obj.get("x_capec_likelihood_of_attack") or ""),
        "severity": str(obj.get("x_capec_typical_severity") or ""),
        "prerequisites": [str(p) for p in obj.get("x_capec_prerequisites") or []],
        "relations": sorted(set(rels)),
        "cwes": external_ids(obj, "cwe"),
        "attack": [_technique(i) for i in external_ids(obj, "ATTACK")],
        "mitigations": mitigations,
        "urls": urls(obj)[:20],
        "published": str(obj.get("created")),
        "modified": str(obj.get("modified")),
    }


def _read_stix(path: Path, on_reject: OnReject | None) -> Iterator[SourceObject]:
    objects = load_stix(path, on_reject)
    by_id = {str(o["id"]): o for o in objects}
    mitigated: dict[str, list[str]] = {}
    for rel in objects:
        if rel["type"] == "relationship" and rel["relationship_type"] == "mitigates":
            coa = by_id.get(str(rel["source_ref"]))
            text_ = clean(coa.get("description")) if coa is not None else ""
            mitigated.setdefault(str(rel["target_ref"]), []).append(text_)
    for obj in objects:
        if obj["type"] == "attack-pattern" and external_id(obj, "capec"):
            fields = _stix_fields(obj, by_id, mitigated.get(str(obj["id"]), []))
            yield capec_object(fields, str(path))


def read_capec(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """The CAPEC XML catalogue (.xml) or the CAPEC STIX bundle (.json)."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".json":
        yield from _read_stix(path, on_reject)
        return
    for file in iter_files(path, (".xml",)):
        try:
            yield from _read_xml(file, on_reject)
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(str(e.location) or str(file), e.message))
