"""The security knowledge taxonomy, loaded from the versioned YAML file in `data/`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from qianmo._yaml import safe_load


@dataclass(frozen=True)
class Domain:
    code: str
    label_en: str
    label_zh: str
    parent: str | None
    attack_tactics: tuple[str, ...] = ()
    cwe_categories: tuple[str, ...] = ()
    children: tuple[str, ...] = field(default=())

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class Taxonomy:
    version: str
    domains: dict[str, Domain]

    @property
    def top_level(self) -> list[Domain]:
        return [d for d in self.domains.values() if d.parent is None]

    def __contains__(self, code: object) -> bool:
        return code in self.domains

    def top_of(self, code: str) -> str:
        """The top-level domain a code belongs to (`vuln.web` → `vuln`)."""
        return code.split(".", 1)[0]

    def for_cwe(self, cwe: str) -> str | None:
        """The most specific domain that lists this CWE id, if any."""
        return self._lookup("cwe_categories", cwe)

    def for_tactic(self, tactic: str) -> str | None:
        return self._lookup("attack_tactics", tactic)

    def _lookup(self, attr: str, value: str) -> str | None:
        hits = [d for d in self.domains.values() if value in getattr(d, attr)]
        hits.sort(key=lambda d: d.parent is None)  # subdomains first: most specific wins
        return hits[0].code if hits else None


def _domain(raw: dict[str, Any], parent: str | None, children: tuple[str, ...]) -> Domain:
    return Domain(
        code=raw["code"],
        label_en=raw["label"]["en"],
        label_zh=raw["label"]["zh"],
        parent=parent,
        attack_tactics=tuple(raw.get("attack_tactics") or ()),
        cwe_categories=tuple(raw.get("cwe_categories") or ()),
        children=children,
    )


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    text = resources.files("qianmo.standard").joinpath("data/taxonomy.yaml").read_text("utf-8")
    raw = safe_load(text)
    domains: dict[str, Domain] = {}
    for top in raw["domains"]:
        subs = top.get("subdomains") or []
        domains[top["code"]] = _domain(top, None, tuple(s["code"] for s in subs))
        for sub in subs:
            domains[sub["code"]] = _domain(sub, top["code"], ())
    return Taxonomy(version=str(raw["version"]), domains=domains)
