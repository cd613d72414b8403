"""The rule tables of `data/rules.yaml`, loaded once and digested for the audit log."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from qianmo._yaml import safe_load
from qianmo.standard import canonical_json


@dataclass(frozen=True)
class RuleTable:
    """The policy as data: see the comments in `data/rules.yaml` for what each table means."""

    version: str
    rules: tuple[tuple[str, str], ...]
    tlp_scope: dict[str, str]
    classification_scope: dict[str, str]
    personal_info_allowed: frozenset[str]
    blocking_flags: tuple[str, ...]
    vetted_only_flags: tuple[str, ...]
    no_train_flags: tuple[str, ...]
    use_forbids: dict[str, tuple[str, ...]]
    use_names: dict[str, frozenset[str]]
    audience_breadth: dict[str, int]
    derived_step_types: frozenset[str]
    person_step_types: frozenset[str]
    person_detail_keys: frozenset[str]
    digest: str

    def text(self, rule: str) -> str:
        return dict(self.rules)[rule]

    @property
    def uses(self) -> list[str]:
        return list(self.use_forbids)


def parse_rules(raw: dict[str, Any]) -> RuleTable:
    return RuleTable(
        version=str(raw["version"]),
        rules=tuple((r["id"], r["text"]) for r in raw["rules"]),
        tlp_scope=dict(raw["tlp_scope"]),
        classification_scope=dict(raw["classification_scope"]),
        personal_info_allowed=frozenset(raw["personal_info_allowed"]),
        blocking_flags=tuple(raw["blocking_flags"]),
        vetted_only_flags=tuple(raw["vetted_only_flags"]),
        no_train_flags=tuple(raw["no_train_flags"]),
        use_forbids={k: tuple(v) for k, v in raw["use_forbids"].items()},
        use_names={k: frozenset(v) for k, v in raw["use_names"].items()},
        audience_breadth=dict(raw["audience_breadth"]),
        derived_step_types=frozenset(raw["derived_step_types"]),
        person_step_types=frozenset(raw["person_step_types"]),
        person_detail_keys=frozenset(raw["person_detail_keys"]),
        digest=hashlib.sha256(canonical_json(raw)).hexdigest(),
    )


@lru_cache(maxsize=1)
def load_rules() -> RuleTable:
    text = resources.files("qianmo.circulate").joinpath("data/rules.yaml").read_text("utf-8")
    return parse_rules(safe_load(text))
