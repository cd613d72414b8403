"""CVSS metrics as CVE JSON 5 and NVD write them: one shape for every version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Preference when one object carries several scores: the newest CVSS version first.
_VERSIONS = {"cvssV4_0": "4.0", "cvssV3_1": "3.1", "cvssV3_0": "3.0", "cvssV2_0": "2.0"}
_NVD_VERSIONS = {
    "cvssMetricV40": "4.0",
    "cvssMetricV31": "3.1",
    "cvssMetricV30": "3.0",
    "cvssMetricV2": "2.0",
}


@dataclass(frozen=True)
class Cvss:
    version: str
    vector: str
    score: float | None
    severity: str | None
    source: str

    def line(self) -> str:
        score = f"{self.score:g}" if self.score is not None else "?"
        return f"CVSS {self.version} {self.vector} — score {score} ({self.severity or '?'})"


def v2_severity(score: float | None) -> str | None:
    """CVSS 2.0 has no severity of its own; NVD's bands are the common reading."""
    if score is None:
        return None
    return "LOW" if score < 4.0 else "MEDIUM" if score < 7.0 else "HIGH"


def _one(version: str, data: dict[str, Any], source: str, severity: Any = None) -> Cvss | None:
    vector = data.get("vectorString")
    if not isinstance(vector, str) or not vector:
        return None
    score = data.get("baseScore")
    score = float(score) if isinstance(score, int | float) else None
    sev = data.get("baseSeverity") or severity
    if sev is None and version == "2.0":
        sev = v2_severity(score)
    return Cvss(version, vector, score, str(sev).upper() if sev else None, source)


def cve_metrics(metrics: list[dict[str, Any]] | None, source: str) -> list[Cvss]:
    """The scores in a CVE JSON 5 container's `metrics` list."""
    out: list[Cvss] = []
    for entry in metrics or []:
        for key, version in _VERSIONS.items():
            if isinstance(entry.get(key), dict):
                found = _one(version, entry[key], source)
                if found:
                    out.append(found)
    return out


def nvd_metrics(metrics: dict[str, Any] | None) -> list[Cvss]:
    """The scores of an NVD API 2.0 `cve.metrics` object (Primary sources first)."""
    out: list[Cvss] = []
    for key, version in _NVD_VERSIONS.items():
        entries = sorted((metrics or {}).get(key) or [], key=lambda m: m.get("type") != "Primary")
        for m in entries:
            data = m.get("cvssData") or {}
            found = _one(version, data, str(m.get("source", "nvd")), m.get("baseSeverity"))
            if found:
                out.append(found)
    return out


def primary(scores: list[Cvss]) -> Cvss | None:
    """The score templates ask about: the newest version, in the order given."""
    order = ["4.0", "3.1", "3.0", "2.0"]
    ranked = sorted(scores, key=lambda c: order.index(c.version) if c.version in order else 9)
    return ranked[0] if ranked else None
