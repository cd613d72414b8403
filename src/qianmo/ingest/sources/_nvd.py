"""NVD CVE API 2.0 responses: {format: NVD_CVE, version: 2.0, vulnerabilities: [{cve}]}."""

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
from qianmo.ingest.sources._cvss import nvd_metrics, primary
from qianmo.standard import Status

NVD_LICENSE = "LicenseRef-NVD"
_CWE = re.compile(r"^CWE-\d+$")


def _cwes(cve: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for w in cve.get("weaknesses") or []:
        for d in w.get("description") or []:
            value = str(d.get("value", ""))
            if _CWE.match(value) and value not in out:
                out.append(value)
    return out


def _cpe_line(m: dict[str, Any]) -> tuple[str, str]:
    parts = str(m.get("criteria", "")).split(":")
    vendor, product = (parts[3], parts[4]) if len(parts) > 5 else ("", "")
    version = parts[5] if len(parts) > 5 and parts[5] not in {"*", "-"} else ""
    bounds = [
        f"from {m['versionStartIncluding']}" if m.get("versionStartIncluding") else "",
        f"after {m['versionStartExcluding']}" if m.get("versionStartExcluding") else "",
        f"before {m['versionEndExcluding']}" if m.get("versionEndExcluding") else "",
        f"through {m['versionEndIncluding']}" if m.get("versionEndIncluding") else "",
    ]
    return f"{vendor} {product}".strip(), " ".join(b for b in [version, *bounds] if b) or "all"


def _products(cve: dict[str, Any]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for config in cve.get("configurations") or []:
        for node in config.get("nodes") or []:
            for m in node.get("cpeMatch") or []:
                if m.get("vulnerable"):
                    name, versions = _cpe_line(m)
                    entry = seen.setdefault(
                        name, {"vendor": name.split(" ")[0], "product": name, "versions": []}
                    )
                    if versions not in entry["versions"]:
                        entry["versions"].append(versions)
    return list(seen.values())


def _kev(cve: dict[str, Any]) -> list[str]:
    if not cve.get("cisaExploitAdd"):
        return []
    return [
        f"CISA KEV: {cve.get('cisaVulnerabilityName', '')}; added {cve['cisaExploitAdd']}, "
        f"due {cve.get('cisaActionDue', '?')}; {cve.get('cisaRequiredAction', '')}"
    ]


def parse_nvd_cve(cve: dict[str, Any], where: str) -> SourceObject:
    cve_id = str(cve.get("id") or "")
    source = {
        "name": "nvd",
        "original_id": cve_id,
        "license": NVD_LICENSE,
        "url": f"https://nvd.nist.gov/vuln/detail/{cve_id}",
    }
    dates = {"published_at": cve.get("published"), "valid_as_of": cve.get("lastModified")}
    desc = first_text(cve.get("descriptions"))
    if str(cve.get("vulnStatus", "")).lower() == "rejected":
        rec = build_record(
            {
                "kind": "document",
                "lang": "en",
                "domain": "vuln",
                "tags": ["rejected"],
                "content": {"text": f"{cve_id}: {desc}"},
                "refs": {"cve": [cve_id]},
                "source": source,
                **dates,
                "status": Status.WITHDRAWN.value,
                "status_reason": "rejected",
            },
            where,
        )
        return SourceObject(rec, {"cve": cve_id}, withdrawn="rejected")
    scores = nvd_metrics(cve.get("metrics"))
    best = primary(scores)
    urls = [r["url"] for r in cve.get("references") or [] if isinstance(r.get("url"), str)]
    products = _products(cve)
    facts: dict[str, Any] = {
        "cve": cve_id,
        "title": cve_id,
        "description": desc,
        "products": products,
        "cwes": _cwes(cve),
        "cvss_vector": best.vector if best else None,
        "cvss_version": best.version if best else None,
        "severity": best.severity if best else None,
    }
    facts["cwe"] = facts["cwes"][0] if facts["cwes"] else None
    if products:
        facts["product"], facts["versions"] = products[0]["product"], products[0]["versions"]
    text = join_text(
        f"{cve_id} ({cve.get('vulnStatus', '')})",
        desc,
        section(
            "Affected (CPE)", [f"{p['product']}: {', '.join(p['versions'])}" for p in products]
        ),
        section("Severity", [s.line() + f" [{s.source}]" for s in scores]),
        section("Weaknesses", facts["cwes"]),
        section("Known exploited", _kev(cve)),
        section("References", urls[:20]),
    )
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": domain_for(facts["cwes"], [], "vuln"),
            "tags": ["kev"] if cve.get("cisaExploitAdd") else [],
            "content": {"title": cve_id, "text": text},
            "refs": {"cve": [cve_id], "cwe": facts["cwes"], "urls": urls},
            "source": source,
            **dates,
        },
        where,
    )
    return SourceObject(rec, facts)


def _check(data: Any, path: Path) -> list[Any]:
    if isinstance(data, dict) and "CVE_Items" in data:
        raise SourceError(
            "unknown schema version: a legacy NVD JSON 1.1 feed (the API 2.0 format is read)",
            file=str(path),
            field="CVE_data_version",
        )
    if not isinstance(data, dict) or data.get("format") != "NVD_CVE":
        raise SourceError("not an NVD API response (format is not NVD_CVE)", file=str(path))
    if str(data.get("version")) != "2.0":
        raise SourceError(
            f"unknown NVD API version {data.get('version')!r} (2.0 is read)",
            file=str(path),
            field="version",
        )
    items = data.get("vulnerabilities")
    if not isinstance(items, list):
        raise SourceError("no 'vulnerabilities' list", file=str(path))
    return items


def read_nvd(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """NVD API 2.0 response files (one, or a folder of pages)."""
    for file in iter_files(Path(path), (".json",)):
        try:
            items = _check(load_json(file), file)
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(str(e.location) or str(file), e.message))
            continue
        for n, item in enumerate(items):
            where = f"{file}: vulnerabilities[{n}]"
            cve = item.get("cve") if isinstance(item, dict) else None
            if not isinstance(cve, dict) or not cve.get("id"):
                reject_or_raise(on_reject, Rejected(where, "cve.id: is required", str(item)[:2000]))
                continue
            try:
                yield parse_nvd_cve(cve, where)
            except SourceError as e:
                reject_or_raise(on_reject, Rejected(where, e.message, str(item)[:2000]))
