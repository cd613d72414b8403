"""ATT&CK tactic short names → ids and names (the table in data/attack_tactics.yaml)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from qianmo._yaml import safe_load


@lru_cache(maxsize=1)
def tactic_table() -> dict[str, tuple[str, str]]:
    text = resources.files("qianmo.ingest.sources").joinpath("data/attack_tactics.yaml")
    raw = safe_load(text.read_text("utf-8"))
    return {k: (v[0], v[1]) for k, v in raw.items()}
