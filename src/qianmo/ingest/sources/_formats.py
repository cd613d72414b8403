"""The source and benchmark formats by name, and recognising them from their content."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from qianmo.ingest.sources._attack import read_attack
from qianmo.ingest.sources._capec import read_capec
from qianmo.ingest.sources._common import SourceObject
from qianmo.ingest.sources._ctibench import read_ctibench
from qianmo.ingest.sources._cve import read_cve
from qianmo.ingest.sources._cwe import read_cwe
from qianmo.ingest.sources._kev import read_kev
from qianmo.ingest.sources._mcq_bench import read_cybermetric, read_seceval
from qianmo.ingest.sources._nvd import read_nvd
from qianmo.ingest.sources._osv import read_osv
from qianmo.ingest.sources._redteam import (
    read_cyberseceval,
    read_garak,
    read_redteam_csv,
    read_tensortrust,
)
from qianmo.ingest.sources._sigma import read_sigma
from qianmo.standard import Record

Reader = Callable[..., Iterable[Record | SourceObject]]


@dataclass(frozen=True)
class SourceFormat:
    name: str
    reader: Reader
    family: str  # which templates/<family>.yaml derives items ("" = none)
    description: str
    # A folder of these holds one self-contained object per file: synced file by file
    mirror_suffixes: tuple[str, ...] = ()


FORMATS: dict[str, SourceFormat] = {
    f.name: f
    for f in [
        SourceFormat(
            "cve", read_cve, "cve", "CVE JSON 5 records (a file or a cvelistV5 folder)", (".json",)
        ),
        SourceFormat("nvd", read_nvd, "nvd", "NVD CVE API 2.0 responses"),
        SourceFormat("kev", read_kev, "kev", "CISA Known Exploited Vulnerabilities catalogue"),
        SourceFormat("attack", read_attack, "attack", "MITRE ATT&CK STIX 2.0/2.1"),
        SourceFormat("cwe", read_cwe, "cwe", "CWE XML catalogue"),
        SourceFormat("capec", read_capec, "capec", "CAPEC XML catalogue or STIX bundle"),
        SourceFormat("osv", read_osv, "osv", "OSV / GHSA advisories", (".json",)),
        SourceFormat("sigma", read_sigma, "sigma", "Sigma detection rules", (".yml", ".yaml")),
        SourceFormat("cybermetric", read_cybermetric, "", "CyberMetric MCQ JSON"),
        SourceFormat("seceval", read_seceval, "", "SecEval MCQ JSON"),
        SourceFormat("ctibench", read_ctibench, "", "CTIBench MCQ/RCM/VSP/ATE TSV"),
        SourceFormat("cyberseceval", read_cyberseceval, "", "CyberSecEval prompt injection"),
        SourceFormat("garak", read_garak, "", "garak payload JSON"),
        SourceFormat("tensortrust", read_tensortrust, "", "Tensor Trust attack/defense JSONL"),
        SourceFormat("redteam-csv", read_redteam_csv, "", "harmful-behaviour CSV list"),
    ]
}


def _stix_kind(data: dict[str, Any]) -> str | None:
    objects = data.get("objects") if data.get("type") == "bundle" else [data]
    for obj in objects or []:
        for ref in obj.get("external_references") or [] if isinstance(obj, dict) else []:
            if ref.get("source_name") in {"mitre-attack", "capec"}:
                return "attack" if ref["source_name"] == "mitre-attack" else "capec"
    return None


def _json_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        if data.get("dataType") == "CVE_RECORD":
            return "cve"
        if data.get("format") == "NVD_CVE":
            return "nvd"
        if "type" in data and str(data.get("id", "")).startswith(f"{data['type']}--"):
            return _stix_kind(data)
        if "modified" in data and "id" in data and ("affected" in data or "schema_version" in data):
            return "osv"
        if "catalogVersion" in data and "vulnerabilities" in data:
            return "kev"
        if isinstance(data.get("questions"), list):
            return "cybermetric"
        if isinstance(data.get("payloads"), list) and "garak_payload_name" in data:
            return "garak"
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        first = data[0]
        if "test_case_prompt" in first and "user_input" in first:
            return "cyberseceval"
        if {"question", "choices", "answer"} <= set(first):
            return "seceval"
    return None


# Content sniffing parses a whole .json file; beyond this size only the generic readers apply.
SNIFF_JSON_MAX = 32 * 1024 * 1024


def detect(path: Path) -> str | None:
    """The format a file's content says it is, or None (then the generic readers apply)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _detect(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _detect(name: str, mtime_ns: int, size: int) -> str | None:
    """Cached by path, modification time and size: every format's sniffer asks once."""
    path = Path(name)
    if path.is_dir():
        # a mirror folder is what its first file is (a cvelistV5 checkout, a rules folder…)
        first = next(
            (
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in {".json", ".xml", ".yml", ".yaml"}
            ),
            None,
        )
        return detect(first) if first is not None else None
    suffix = path.suffix.lower()
    with path.open("rb") as f:
        head = f.read(4096)
    if suffix == ".tsv" and head.startswith(b"URL\t"):
        return "ctibench"
    if suffix == ".jsonl" and b'"pre_prompt"' in head and b'"attack"' in head:
        return "tensortrust"
    if suffix == ".xml":
        if b"<Weakness_Catalog" in head:
            return "cwe"
        if b"<Attack_Pattern_Catalog" in head:
            return "capec"
        return None
    if suffix in {".yml", ".yaml"} and b"logsource:" in head and b"detection:" in head:
        return "sigma"
    if suffix == ".json" and size <= SNIFF_JSON_MAX:
        try:
            return _json_kind(orjson.loads(path.read_bytes()))
        except orjson.JSONDecodeError:
            return None
    return None
