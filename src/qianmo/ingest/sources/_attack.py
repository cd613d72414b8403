"""MITRE ATT&CK in STIX (2.0 objects of mitre/cti, or 2.1 bundles): techniques, sub-techniques,
tactics, groups, software, mitigations and campaigns, with uses/mitigates/subtechnique-of."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qianmo.ingest.sources._common import (
    OnReject,
    Relation,
    SourceObject,
    build_record,
    domain_for,
    join_text,
    section,
)
from qianmo.ingest.sources._stix import (
    clean,
    external_id,
    first_paragraph,
    iter_type,
    load_stix,
    urls,
)
from qianmo.standard import Status

ATTACK_LICENSE = "LicenseRef-MITRE-ATTACK"
_KINDS = {
    "attack-pattern": "technique",
    "x-mitre-tactic": "tactic",
    "intrusion-set": "group",
    "malware": "software",
    "tool": "software",
    "course-of-action": "mitigation",
    "campaign": "campaign",
}


class _Index:
    """Ids, names and relationships of one input, for the facts of each object."""

    def __init__(self, objects: list[Any]) -> None:
        self.by_stix = {str(o["id"]): o for o in objects}
        self._idents: dict[str, str | None] = {}
        self.tactics = {
            str(o.get("x_mitre_shortname")): o for o in iter_type(objects, "x-mitre-tactic")
        }
        self.out: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.into: dict[tuple[str, str], list[str]] = defaultdict(list)
        for rel in iter_type(objects, "relationship"):
            if rel.get("revoked") or rel.get("x_mitre_deprecated"):
                continue
            kind = str(rel["relationship_type"])
            self.out[(str(rel["source_ref"]), kind)].append(str(rel["target_ref"]))
            self.into[(str(rel["target_ref"]), kind)].append(str(rel["source_ref"]))

    def ident(self, stix_id: str) -> str | None:
        # each technique is looked up from every group, software and sub-technique naming it
        if stix_id not in self._idents:
            obj = self.by_stix.get(stix_id)
            self._idents[stix_id] = external_id(obj, "mitre-attack") if obj is not None else None
        return self._idents[stix_id]

    def name(self, stix_id: str) -> str:
        obj = self.by_stix.get(stix_id)
        return str(obj.get("name")) if obj is not None else stix_id

    def live(self, stix_ids: list[str]) -> list[str]:
        return [s for s in stix_ids if s in self.by_stix and not _retired(self.by_stix[s])]


def _retired(obj: Any) -> str | None:
    if obj.get("revoked"):
        return "revoked upstream"
    if obj.get("x_mitre_deprecated"):
        return "deprecated upstream"
    return None


def _technique_facts(obj: Any, ix: _Index, ident: str) -> tuple[dict[str, Any], list[Relation]]:
    sid = str(obj["id"])
    phases = [
        p["phase_name"]
        for p in obj.get("kill_chain_phases") or []
        if p.get("kill_chain_name", "").startswith("mitre")
    ]
    tactic_objs = [ix.tactics[p] for p in phases if p in ix.tactics]
    tactic_ids = [external_id(t, "mitre-attack") or "" for t in tactic_objs]
    mitigations = ix.live(ix.into[(sid, "mitigates")])
    parent = next((ix.ident(p) for p in ix.out[(sid, "subtechnique-of")]), None)
    facts: dict[str, Any] = {
        "technique_id": ident,
        "tactic_ids": tactic_ids,
        "tactics": [str(t.get("name")) for t in tactic_objs],
        "mitigations": [ix.name(m) for m in mitigations],
        "platforms": list(obj.get("x_mitre_platforms") or []),
        "parent": parent,
        "parent_name": ix.name(ix.out[(sid, "subtechnique-of")][0]) if parent else None,
        "behaviour": first_paragraph(clean(obj.get("description"))),
        "used_by": [ix.name(g) for g in ix.live(ix.into[(sid, "uses")])],
        "detection": clean(obj.get("x_mitre_detection")),
    }
    facts["tactic"] = facts["tactics"][0] if facts["tactics"] else None
    facts["mitigation"] = facts["mitigations"][0] if facts["mitigations"] else None
    facts["related_ids"] = [ident, parent] if parent else [ident]
    relations = [Relation("attack", ident, "tactic-of", t) for t in tactic_ids if t]
    if parent:
        relations.append(Relation("attack", ident, "subtechnique-of", parent))
    facts["lists"] = {
        "technique": {ident} if not parent else set(),
        "tactic": set(facts["tactics"]),
        "mitigation": set(facts["mitigations"]),
    }
    return facts, relations


def _uses_facts(obj: Any, ix: _Index) -> dict[str, Any]:
    used = ix.live(ix.out[(str(obj["id"]), "uses")])
    techniques = sorted({i for u in used if (i := ix.ident(u)) and i.startswith("T")})
    software = sorted({ix.name(u) for u in used if ix.by_stix[u]["type"] in {"malware", "tool"}})
    return {
        "uses_techniques": techniques,
        "uses_software": software,
        "aliases": list(obj.get("aliases") or obj.get("x_mitre_aliases") or []),
    }


def _text(obj: Any, kind: str, ident: str, facts: dict[str, Any], links: list[str]) -> str:
    return join_text(
        f"{ident} {obj.get('name')} (ATT&CK {kind})",
        clean(obj.get("description")),
        section("Tactics", facts.get("tactics") or []),
        section("Platforms", facts.get("platforms") or []),
        f"Sub-technique of {facts['parent']} {facts['parent_name']}" if facts.get("parent") else "",
        section("Mitigations", facts.get("mitigations") or []),
        f"Detection: {facts['detection']}" if facts.get("detection") else "",
        section("Techniques used", facts.get("uses_techniques") or []),
        section("Software used", facts.get("uses_software") or []),
        section("References", links[:15]),
    )


def parse_attack_object(obj: Any, ix: _Index, where: str) -> SourceObject | None:
    kind = _KINDS.get(str(obj["type"]))
    ident = external_id(obj, "mitre-attack") if kind is not None else None
    if kind is None or ident is None:
        return None
    facts: dict[str, Any] = {"id": ident, "name": str(obj.get("name")), "kind": kind}
    relations: list[Relation] = []
    if kind == "technique":
        more, relations = _technique_facts(obj, ix, ident)
        facts.update(more)
    elif kind in {"group", "software", "campaign"}:
        facts.update(_uses_facts(obj, ix))
        facts["group_id"] = ident
    retired = _retired(obj)
    links = urls(obj)
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": domain_for([], facts.get("tactic_ids") or [], _default_domain(kind)),
            "tags": ["attack", f"attack:{kind}", *([retired.split()[0]] if retired else [])],
            "content": {
                "title": f"{ident}: {obj.get('name')}",
                "text": _text(obj, kind, ident, facts, links),
            },
            "refs": {
                "attack": [
                    ident,
                    *(facts.get("tactic_ids") or []),
                    *(facts.get("uses_techniques") or []),
                ],
                "urls": links[:50],
            },
            "source": {
                "name": "attack",
                "original_id": ident,
                "license": ATTACK_LICENSE,
                "url": next(iter(links), None),
            },
            "published_at": str(obj.get("created")),
            "valid_as_of": str(obj.get("modified")),
            **({"status": Status.WITHDRAWN.value, "status_reason": retired} if retired else {}),
        },
        f"{where}: {obj['id']}",
    )
    return SourceObject(rec, facts, [] if retired else relations, withdrawn=retired)


def _default_domain(kind: str) -> str:
    return {
        "group": "threat.actor",
        "software": "threat.malware",
        "campaign": "threat.intel",
        "mitigation": "ops.detection",
    }.get(kind, "threat.ttp")


def read_attack(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """An ATT&CK STIX bundle (2.0 or 2.1), or a mitre/cti folder of one-object files."""
    objects = load_stix(Path(path), on_reject)
    ix = _Index(objects)
    for obj in objects:
        parsed = parse_attack_object(obj, ix, str(path))
        if parsed is not None:
            yield parsed
