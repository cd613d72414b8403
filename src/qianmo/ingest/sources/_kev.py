"""CISA Known Exploited Vulnerabilities: the flag, ransomware use and due dates of a CVE.

A KEV entry is attached to its CVE's record (tags `kev`, `kev-ransomware:…`, `kev-added:…`,
`kev-due:…` and a KEV paragraph); a CVE with no record yet gets a minimal one under CC0.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qianmo.ingest.sources._common import (
    OnReject,
    Rejected,
    SourceError,
    SourceObject,
    build_record,
    domain_for,
    load_json,
    reject_or_raise,
)

KEV_LICENSE = "CC0-1.0"
KEV_MARK = "Known exploited (CISA KEV):"
KEV_URL = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"


def kev_tags(entry: dict[str, Any]) -> list[str]:
    ransomware = str(entry.get("knownRansomwareCampaignUse") or "Unknown").lower()
    tags = ["kev", f"kev-ransomware:{ransomware}"]
    if entry.get("dateAdded"):
        tags.append(f"kev-added:{entry['dateAdded']}")
    if entry.get("dueDate"):
        tags.append(f"kev-due:{entry['dueDate']}")
    return tags


def kev_paragraph(entry: dict[str, Any]) -> str:
    return (
        f"{KEV_MARK} {entry.get('vulnerabilityName', '')}. Vendor/product: "
        f"{entry.get('vendorProject', '')} {entry.get('product', '')}. Added "
        f"{entry.get('dateAdded', '?')}; remediation due {entry.get('dueDate', '?')}; known "
        f"ransomware campaign use: {entry.get('knownRansomwareCampaignUse', 'Unknown')}. "
        f"Required action: {entry.get('requiredAction', '')}"
    )


def parse_kev_entry(entry: dict[str, Any], where: str) -> SourceObject:
    cve_id = str(entry.get("cveID") or "")
    cwes = [c for c in entry.get("cwes") or [] if isinstance(c, str)]
    text = f"{cve_id}: {entry.get('shortDescription', '')}\n\n{kev_paragraph(entry)}"
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": domain_for(cwes, [], "vuln"),
            "tags": kev_tags(entry),
            "content": {"title": str(entry.get("vulnerabilityName") or cve_id), "text": text},
            "refs": {"cve": [cve_id], "cwe": cwes},
            "source": {
                "name": "cve",
                "original_id": cve_id,
                "license": KEV_LICENSE,
                "url": KEV_URL,
            },
            "published_at": entry.get("dateAdded"),
            "valid_as_of": entry.get("dateAdded"),
        },
        where,
    )
    facts = {
        "cve": cve_id,
        "kev": True,
        "vendor": entry.get("vendorProject") or "",
        "product": entry.get("product") or "",
        "kev_name": entry.get("vulnerabilityName") or "",
        "date_added": entry.get("dateAdded") or "",
        "due_date": entry.get("dueDate") or "",
        "ransomware": entry.get("knownRansomwareCampaignUse") or "Unknown",
        "required_action": entry.get("requiredAction") or "",
        "cwes": cwes,
        "kev_paragraph": kev_paragraph(entry),
        "kev_tags": kev_tags(entry),
    }
    facts["vendor_product"] = f"{facts['vendor']} {facts['product']}".strip()
    facts["lists"] = {"kev_product": {facts["vendor_product"]}}
    return SourceObject(rec, facts)


def read_kev(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """The KEV catalogue JSON: {catalogVersion, dateReleased, vulnerabilities: [...]}."""
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise SourceError("not a KEV catalogue: no 'vulnerabilities' list", file=str(path))
    for n, entry in enumerate(data["vulnerabilities"]):
        where = f"{path}: vulnerabilities[{n}]"
        if not isinstance(entry, dict) or not entry.get("cveID"):
            reject_or_raise(on_reject, Rejected(where, "cveID: is required", str(entry)[:2000]))
            continue
        try:
            yield parse_kev_entry(entry, where)
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(where, e.message, str(entry)[:2000]))
