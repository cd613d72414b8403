"""Item templates, kept as YAML data files in `templates/` (one per source family)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from qianmo._yaml import safe_load
from qianmo.errors import QianmoError

LANGS = ("en", "zh")


@dataclass(frozen=True)
class Template:
    """One question shape. `needs` are facts that must be present; an `mcq` draws its wrong
    choices from the `distractors` pool and never from the `correct` fact's values."""

    family: str
    id: str
    kind: str
    question: dict[str, str]
    answer: str
    needs: tuple[str, ...]
    answer_type: str = "text"
    correct: str | None = None
    distractors: str | None = None
    choice: str = "text"  # "id": choices are ids shown with their names
    min_choices: int = 4  # fewer safe distractors than this: no item


def _template(family: str, raw: dict[str, Any]) -> Template:
    missing = [k for k in ("id", "kind", "question", "answer") if k not in raw]
    if missing or set(raw["question"]) != set(LANGS):
        raise QianmoError(
            f"bad template {raw.get('id')!r}: needs id, kind, question (en, zh) and answer",
            file=f"templates/{family}.yaml",
        )
    return Template(
        family=family,
        id=raw["id"],
        kind=raw["kind"],
        question=dict(raw["question"]),
        answer=raw["answer"],
        needs=tuple(raw.get("needs") or ()),
        answer_type=raw.get("answer_type", "text"),
        correct=raw.get("correct"),
        distractors=raw.get("distractors"),
        choice=raw.get("choice", "text"),
        min_choices=int(raw.get("min_choices", 4)),
    )


# Families that share another's templates: NVD records answer the same questions as CVE ones.
SHARED = {"nvd": "cve"}


@cache
def load_templates(family: str) -> tuple[Template, ...]:
    name = SHARED.get(family, family)
    path = resources.files("qianmo.ingest.sources").joinpath(f"templates/{name}.yaml")
    raw = safe_load(path.read_text("utf-8"))
    return tuple(_template(family, t) for t in raw["templates"])


@lru_cache(maxsize=1)
def load_pools() -> dict[str, list[str]]:
    path = resources.files("qianmo.ingest.sources").joinpath("data/pools.yaml")
    data: dict[str, list[str]] = safe_load(path.read_text("utf-8"))
    return data
