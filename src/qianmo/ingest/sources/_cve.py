"""CVE JSON 5 records (cvelistV5): CNA and ADP containers, CVSS 2/3.0/3.1/4.0, rejections."""

from __future__ import annotations

import re
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
    first_text,
    iter_files,
    join_text,
    load_json,
    reject_or_raise,
    section,
)
from qianmo.ingest.sources._cvss import Cvss, cve_metrics, primary
from qianmo.standard import Status

CVE_LICENSE = "cve-tou"
_CWE = re.compile(r"CWE-\d+")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def _version_line(v: dict[str, Any]) -> str:
    status = v.get("status", "affected")
    version = str(v.get("version", ""))
    if v.get("lessThan"):
        return f"{version} to before {v['lessThan']} ({status})"
    if v.get("lessThanOrEqual"):
        return f"{version} to {v['lessThanOrEqual']} ({status})"
    return f"{version} ({status})"


def affected_products(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Vendor, product and version lines of every container, deduplicated."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for c in containers:
        for a in c.get("affected") or []:
            vendor = str(a.get("vendor") or a.get("collectionURL") or "")
            product = str(a.get("product") or a.get("packageName") or "")
            if not product or product.lower() == "n/a":
                continue
            entry = seen.setdefault(
                (vendor, product), {"vendor": vendor, "product": product, "versions": []}
            )
            for v in a.get("versions") or []:
                line = _version_line(v)
                if line not in entry["versions"]:
                    entry["versions"].append(line)
    return list(seen.values())


def _cwes(containers: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for c in containers:
        for pt in c.get("problemTypes") or []:
            for d in pt.get("descriptions") or []:
                for cwe in [d.get("cweId"), *_CWE.findall(str(d.get("description", "")))]:
                    if cwe and _CWE.fullmatch(str(cwe)) and cwe not in found:
                        found.append(str(cwe))
    return found


def _urls(containers: list[dict[str, Any]]) -> list[str]:
    urls: list[str] = []
    for c in containers:
        for ref in c.get("references") or []:
            url = ref.get("url")
            if isinstance(url, str) and url not in urls:
                urls.append(url)
    return urls


def _text(cve_id: str, title: str, desc: str, facts: dict[str, Any], scores: list[Cvss]) -> str:
    products = [
        f"{p['vendor']} {p['product']}: {', '.join(p['versions']) or 'all versions'}".strip()
        for p in facts["products"]
    ]
    return join_text(
        f"{cve_id}: {title}" if title else cve_id,
        desc,
        section("Affected", products),
        section("Severity", [s.line() + f" [{s.source}]" for s in scores]),
        section("Weaknesses", facts["cwes"]),
        section("Solutions", facts["solutions"]),
        section("References", facts["urls"][:20]),
    )


def _check(data: Any, path: Path) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("dataType") != "CVE_RECORD":
        raise SourceError("not a CVE JSON 5 record (dataType is not CVE_RECORD)", file=str(path))
    version = str(data.get("dataVersion", ""))
    if not version.startswith("5."):
        raise SourceError(
            f"unknown CVE schema version {version!r} (5.x is read)",
            file=str(path),
            field="dataVersion",
        )
    meta = data.get("cveMetadata") or {}
    if not _CVE.match(str(meta.get("cveId", ""))):
        raise SourceError("cveMetadata.cveId is missing or malformed", file=str(path))
    return meta


def parse_cve(data: Any, path: Path) -> SourceObject:
    """One CVE JSON 5 record as a source object."""
    meta = _check(data, path)
    cve_id = str(meta["cveId"])
    cna = (data.get("containers") or {}).get("cna") or {}
    adps = (data.get("containers") or {}).get("adp") or []
    containers = [cna, *adps]
    source = {
        "name": "cve",
        "original_id": cve_id,
        "license": CVE_LICENSE,
        "url": f"https://www.cve.org/CVERecord?id={cve_id}",
    }
    dates = {
        "published_at": meta.get("datePublished") or meta.get("dateReserved"),
        "valid_as_of": meta.get("dateUpdated") or meta.get("dateRejected"),
    }
    if meta.get("state") == "REJECTED":
        reason = first_text(cna.get("rejectedReasons")) or "rejected by its CNA"
        rec = build_record(
            {
                "kind": "document",
                "lang": "en",
                "domain": "vuln",
                "tags": ["rejected"],
                "content": {"title": f"{cve_id} (rejected)", "text": f"{cve_id}: {reason}"},
                "refs": {"cve": [cve_id]},
                "source": source,
                **dates,
                "status": Status.WITHDRAWN.value,
                "status_reason": f"rejected: {reason}",
            },
            f"{path}: {cve_id}",
        )
        return SourceObject(rec, {"cve": cve_id}, withdrawn=f"rejected: {reason}")
    scores = cve_metrics(cna.get("metrics"), "cna")
    for adp in adps:
        scores += cve_metrics(
            adp.get("metrics"), str((adp.get("providerMetadata") or {}).get("shortName", "adp"))
        )
    best = primary(scores)
    facts: dict[str, Any] = {
        "cve": cve_id,
        "title": str(cna.get("title") or ""),
        "description": first_text(cna.get("descriptions")),
        "products": affected_products(containers),
        "cwes": _cwes(containers),
        "urls": _urls(containers),
        "solutions": [first_text([s]) for s in cna.get("solutions") or []],
        "cvss_vector": best.vector if best else None,
        "cvss_version": best.version if best else None,
        "cvss_score": best.score if best else None,
        "severity": best.severity if best else None,
    }
    if facts["products"]:
        first = facts["products"][0]
        facts["vendor"] = first["vendor"]
        facts["product"] = f"{first['vendor']} {first['product']}".strip()
        facts["versions"] = first["versions"]
    facts["cwe"] = facts["cwes"][0] if facts["cwes"] else None
    text = _text(cve_id, facts["title"], facts["description"], facts, scores)
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": domain_for(facts["cwes"], [], "vuln"),
            "content": {"title": facts["title"] or cve_id, "text": text},
            "refs": {"cve": [cve_id], "cwe": facts["cwes"], "urls": facts["urls"]},
            "source": source,
            **dates,
        },
        f"{path}: {cve_id}",
    )
    return SourceObject(rec, facts)


def read_cve(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """CVE JSON 5 files: one file, or a folder such as a cvelistV5 checkout."""
    for file in iter_files(Path(path), (".json",)):
        if file.name in {"delta.json", "deltaLog.json"}:
            continue  # cvelistV5 bookkeeping, not CVE records
        try:
            yield parse_cve(load_json(file), file)
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(str(e.location) or str(file), e.message))
