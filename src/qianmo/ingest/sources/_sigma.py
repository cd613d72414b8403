"""Sigma rules: one `document` per rule with its ATT&CK tags; deprecated rules are marked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from qianmo._yaml import safe_dump, safe_load_all
from qianmo.ingest.sources._attack_names import tactic_table
from qianmo.ingest.sources._common import (
    OnReject,
    Rejected,
    SourceError,
    SourceObject,
    build_record,
    domain_for,
    iter_files,
    join_text,
    reject_or_raise,
    section,
)
from qianmo.standard import Status

SIGMA_LICENSE = "DRL-1.1"
_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.I)
_CVE_TAG = re.compile(r"^cve\.(\d{4}-\d{4,})$", re.I)


def _date(value: Any) -> str | None:
    return str(value).replace("/", "-") if value else None


def _tags(tags: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(technique ids, tactic ids, CVE ids) named by a rule's tags."""
    techniques, tactics, cves = [], [], []
    table = tactic_table()
    for tag in tags:
        if m := _TECHNIQUE.match(tag):
            techniques.append(m.group(1).upper())
        elif m := _CVE_TAG.match(tag):
            cves.append(f"CVE-{m.group(1)}")
        elif tag.lower().startswith("attack.") and tag[7:].lower() in table:
            tactics.append(table[tag[7:].lower()][0])
    return techniques, tactics, cves


# qianmo._yaml: libyaml's loader and dumper (the pure-Python parser was 2.2 of 3.3 s profiling
# the 9 shared sample rules; same documents, same dumped text).


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
        docs = [d for d in safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SourceError(
            f"malformed YAML: {getattr(e, 'problem', e)}", file=str(path), line=line
        ) from e
    rule = next((d for d in docs if "title" in d and "detection" in d), None)
    if rule is None:
        raise SourceError("not a Sigma rule (needs title and detection)", file=str(path))
    return rule


def parse_sigma(rule: dict[str, Any], where: str) -> SourceObject:
    tags = [str(t) for t in rule.get("tags") or []]
    techniques, tactics, cves = _tags(tags)
    logsource = ", ".join(f"{k}: {v}" for k, v in (rule.get("logsource") or {}).items())
    detection = safe_dump(rule.get("detection"), sort_keys=False, allow_unicode=True)
    refs = [str(r) for r in rule.get("references") or []]
    text = join_text(
        f"Sigma rule: {rule['title']}",
        str(rule.get("description") or ""),
        f"Log source: {logsource}" if logsource else "",
        f"Detection:\n{detection}",
        section("False positives", [str(f) for f in rule.get("falsepositives") or []]),
        f"Level: {rule.get('level', '')}",
        section("ATT&CK", techniques + tactics),
        section("References", refs),
    )
    deprecated = str(rule.get("status", "")).lower() == "deprecated"
    rule_id = str(rule.get("id") or rule["title"])
    rec = build_record(
        {
            "kind": "document",
            "lang": "en",
            "domain": "ops.detection" if not tactics else domain_for([], tactics, "ops.detection"),
            "tags": [
                "sigma",
                f"level:{rule.get('level', 'unknown')}",
                *(["deprecated"] if deprecated else []),
            ],
            "content": {"title": str(rule["title"]), "text": text},
            "refs": {
                "attack": techniques + tactics,
                "cve": cves,
                "urls": [r for r in refs if r.startswith("http")],
            },
            "source": {
                "name": "sigma",
                "original_id": rule_id,
                "license": SIGMA_LICENSE,
                "url": "https://github.com/SigmaHQ/sigma",
            },
            "published_at": _date(rule.get("date")),
            "valid_as_of": _date(rule.get("modified") or rule.get("date")),
            **(
                {"status": Status.WITHDRAWN.value, "status_reason": "deprecated upstream"}
                if deprecated
                else {}
            ),
        },
        where,
    )
    facts = {
        "title": rule["title"],
        "rule_id": rule_id,
        "level": rule.get("level"),
        "techniques": techniques,
        "tactic_ids": tactics,
        "logsource": logsource,
        "description": rule.get("description"),
        "cves": cves,
        "technique": techniques[0] if techniques else None,
    }
    return SourceObject(rec, facts, withdrawn="deprecated upstream" if deprecated else None)


def read_sigma(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[SourceObject]:
    """Sigma rule files (.yml/.yaml): one, or a rules folder."""
    for file in iter_files(Path(path), (".yml", ".yaml")):
        try:
            yield parse_sigma(_load(file), str(file))
        except SourceError as e:
            reject_or_raise(on_reject, Rejected(str(e.location) or str(file), e.message))
