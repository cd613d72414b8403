"""OSV advisories (GHSA, PyPA, Go, RustSec, distributions): affected ranges per ecosystem."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from qianmo._yaml import safe_load
from qianmo.ingest.sources._common import (
    OnReject,
    Rejected,
    SourceError,
    SourceObject,
    build_record,
    domain_for,
    iter_files,
    join_text,
    load_json,
    reject_or_raise,
    section,
)
from qianmo.standard import Status

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


@lru_cache(maxsize=1)
def _licenses() -> dict[str, str]:
    text = resources.files("qianmo.ingest.sources").joinpath("data/osv_licenses.yaml")
    data: dict[str, str] = safe_load(text.read_text("utf-8"))
    return data


def osv_license(osv_id: str, options: dict[str, Any] | None) -> str:
    """The licence the advisory's database states (by id prefix), unless one is given."""
    if (options or {}).get("license"):
        return str((options or {})["license"])
    return _licenses().get(osv_id.split("-", 1)[0], "LicenseRef-unknown")


def _ranges(affected: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Readable ranges (`>= 2.0.0, < 2.0.7`) and the fixed versions of one package."""
    lines: list[str] = []
    fixed: list[str] = []
    for r in affected.get("ranges") or []:
        parts: list[str] = []
        for ev in r.get("events") or []:
            if "introduced" in ev:
                parts.append(f">= {ev['introduced']}")
            if "fixed" in ev:
                parts.append(f"< {ev['fixed']}")
                fixed.append(str(ev["fixed"]))
            if "last_affected" in ev:
                parts.append(f"<= {ev['last_affected']}")
        if parts:
            lines.append(", ".join(parts))
    if not lines and affected.get("versions"):
        lines.append("versions " + ", ".join(map(str, affected["versions"][:20])))
    return lines, fixed


def parse_osv(data: Any, where: str, options: dict[str, Any] | None) -> SourceObject:
    if not isinstance(data, dict) or not data.get("id") or "modified" not in data:
        raise SourceError("not an OSV record (needs id and modified)", file=where)
    version = str(data.get("schema_version") or "1.0.0")
    if not version.startswith("1."):
        raise SourceError(
            f"unknown OSV schema version {version!r}", file=where, field="schema_version"
        )
    osv_id = str(data["id"])
    packages, lines, fixed = [], [], []
    for a in data.get("affected") or []:
        pkg = a.get("package") or {}
        name = f"{pkg.get('ecosystem', '?')}/{pkg.get('name', '?')}"
        ranges, fx = _ranges(a)
        packages.append(name)
        lines.append(f"{name}: {'; '.join(ranges) or 'see advisory'}")
        fixed += fx
    cves = [a for a in [osv_id, *(data.get("aliases") or [])] if _CVE.match(str(a))]
    db = data.get("database_specific") or {}
    cwes = [c for c in db.get("cwe_ids") or [] if isinstance(c, str)]
    vectors = [
        s.get("score")
        for s in data.get("severity") or []
        if str(s.get("type", "")).startswith("CVSS") and s.get("score")
    ]
    urls = [r["url"] for r in data.get("references") or [] if isinstance(r.get("url"), str)]
    text = join_text(
        f"{osv_id}: {data.get('summary', '')}".strip(": "),
        str(data.get("details") or ""),
        section("Affected packages", lines),
        section("Fixed in", sorted(set(fixed))),
        section("Severity", vectors),
        section("Weaknesses", cwes),
        section("Aliases", data.get("aliases") or []),
        section("References", urls[:20]),
    )
    withdrawn = f"withdrawn upstream on {data['withdrawn']}" if data.get("withdrawn") else None
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": domain_for(cwes, [], "appsec.code"),
            "tags": ["osv", *[f"ecosystem:{p.split('/')[0]}" for p in packages[:5]]],
            "content": {"title": str(data.get("summary") or osv_id), "text": text},
            "refs": {"cve": cves, "cwe": cwes, "urls": urls},
            "source": {
                "name": "osv",
                "original_id": osv_id,
                "license": osv_license(osv_id, options),
                "url": f"https://osv.dev/vulnerability/{osv_id}",
            },
            "published_at": data.get("published") or data.get("modified"),
            "valid_as_of": data.get("modified"),
            **({"status": Status.WITHDRAWN.value, "status_reason": withdrawn} if withdrawn else {}),
        },
        where,
    )
    first = packages[0] if packages else ""
    facts = {
        "id": osv_id,
        "package": first,
        "ecosystem": first.split("/")[0],
        "packages": packages,
        "fixed": sorted(set(fixed)),
        "ranges": lines,
        "cve": cves[0] if cves else None,
        "cves": cves,
        "cwes": cwes,
        "cvss_vector": vectors[0] if vectors else None,
        "summary": data.get("summary"),
    }
    return SourceObject(rec, facts, withdrawn=withdrawn)


def read_osv(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """OSV JSON files: one advisory, or a folder of them (an advisory-database checkout)."""
    for file in iter_files(Path(path), (".json",)):
        try:
            yield parse_osv(load_json(file), str(file), options)
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(str(e.location) or str(file), e.message))
