"""The source and benchmark formats by name, and recognising them from their content."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from qianmo.ingest.sources._common import SourceObject
from qianmo.ingest.sources._ctibench import read_ctibench
from qianmo.ingest.sources._cve import read_cve
from qianmo.ingest.sources._kev import read_kev
from qianmo.ingest.sources._mcq_bench import read_cybermetric, read_seceval
from qianmo.ingest.sources._redteam import (
    read_cyberseceval,
    read_garak,
    read_redteam_csv,
    read_tensortrust,
)
from qianmo.standard import Record

Reader = Callable[..., Iterable[Record | SourceObject]]


@dataclass(frozen=True)
class SourceFormat:
    name: str
    reader: Reader
    family: str  # which templates/<family>.yaml derives items ("" = none)
    description: str


FORMATS: dict[str, SourceFormat] = {
    f.name: f
    for f in [
        SourceFormat("cve", read_cve, "cve", "CVE JSON 5 records (a file or a cvelistV5 folder)"),
        SourceFormat("kev", read_kev, "kev", "CISA Known Exploited Vulnerabilities catalogue"),
        SourceFormat("cybermetric", read_cybermetric, "", "CyberMetric MCQ JSON"),
        SourceFormat("seceval", read_seceval, "", "SecEval MCQ JSON"),
        SourceFormat("ctibench", read_ctibench, "", "CTIBench MCQ/RCM/VSP/ATE TSV"),
        SourceFormat("cyberseceval", read_cyberseceval, "", "CyberSecEval prompt injection"),
        SourceFormat("garak", read_garak, "", "garak payload JSON"),
        SourceFormat("tensortrust", read_tensortrust, "", "Tensor Trust attack/defense JSONL"),
        SourceFormat("redteam-csv", read_redteam_csv, "", "harmful-behaviour CSV list"),
    ]
}


def _json_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        if data.get("dataType") == "CVE_RECORD":
            return "cve"
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


def detect(path: Path) -> str | None:
    """The format a file's content says it is, or None (then the generic readers apply)."""
    if path.is_dir():
        return None
    suffix = path.suffix.lower()
    head = path.read_bytes()[:4096]
    if suffix == ".tsv" and head.startswith(b"URL\t"):
        return "ctibench"
    if suffix == ".jsonl" and b'"pre_prompt"' in head and b'"attack"' in head:
        return "tensortrust"
    if suffix == ".json":
        try:
            return _json_kind(orjson.loads(path.read_bytes()))
        except orjson.JSONDecodeError:
            return None
    return None
