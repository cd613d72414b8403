"""People in released lineage appear only as stable pseudonyms: an HMAC of the name keyed
with the workspace secret, so the same person has the same pseudonym in every release of
the workspace and nobody without the secret can tell who it is."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from qianmo.circulate._rules import RuleTable


def pseudonym(name: str, secret: bytes) -> str:
    return "person-" + hmac.new(secret, name.encode(), hashlib.sha256).hexdigest()[:16]


def _names(value: Any, secret: bytes) -> Any:
    if isinstance(value, str):
        return pseudonym(value, secret)
    if isinstance(value, list):
        return [_names(v, secret) for v in value]
    return value


def pseudonymise_lineage(
    lineage: dict[str, Any], secret: bytes, rules: RuleTable
) -> dict[str, Any]:
    if not lineage.get("steps"):  # most records: nobody to hide, nothing to copy but the list
        return {**lineage, "steps": []}
    steps = []
    for step in lineage["steps"]:
        step = dict(step)
        if step.get("type") in rules.person_step_types:
            step["name"] = pseudonym(str(step.get("name", "")), secret)
        detail = dict(step.get("detail") or {})
        for key in rules.person_detail_keys & detail.keys():
            detail[key] = _names(detail[key], secret)
        step["detail"] = detail
        steps.append(step)
    return {**lineage, "steps": steps}


def pseudonymise_restrictions(items: list[str], secret: bytes) -> list[str]:
    return [
        f"user:{pseudonym(i.partition(':')[2], secret)}" if i.startswith("user:") else i
        for i in items
    ]
