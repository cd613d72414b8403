"""Defense stacks: versioned data describing what stands between an attacker and the model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import xxhash
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qianmo._yaml import safe_load
from qianmo.arena._data import load_data
from qianmo.errors import QianmoError
from qianmo.standard import canonical_json


class FilterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["patterns", "classifier", "guard", "canary"]
    patterns: list[str] = Field(default_factory=list)  # empty: the package's default list
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)  # classifier: block at or above


class DefenseStack(BaseModel):
    """System prompt with a secret, spotlighting, sandwich reminder, input and output filters."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: int = Field(ge=1)
    description: str = ""
    system_prompt: str = ""
    spotlight: Literal["none", "delimit", "datamark"] = "none"
    sandwich: str | None = None
    input_filters: list[FilterSpec] = Field(default_factory=list)
    output_filters: list[FilterSpec] = Field(default_factory=list)
    refusal: str = "[blocked by {filter}] I can't help with that request."

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def digest(self) -> str:
        """Changes whenever anything in the stack changes, version bump or not."""
        return xxhash.xxh3_64_hexdigest(canonical_json(self.model_dump(mode="json")))


def _stacks(data: dict[str, Any], file: str) -> dict[str, DefenseStack]:
    out: dict[str, DefenseStack] = {}
    for name, body in (data.get("defenses") or {}).items():
        try:
            out[name] = DefenseStack.model_validate({"name": name, **(body or {})})
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise QianmoError(err["msg"], file=file, field=f"defenses.{name}.{field}") from e
    return out


def builtin_defenses() -> dict[str, DefenseStack]:
    return _stacks(load_data("defenses.yaml"), "qianmo/arena/data/defenses.yaml")


def load_defenses(path: Path) -> dict[str, DefenseStack]:
    """Defense stacks from a user's YAML file shaped like the package's defenses.yaml."""
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise QianmoError(f"cannot read: {e.strerror}", file=str(path)) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise QianmoError(
            "not valid YAML", file=str(path), line=mark.line + 1 if mark else None
        ) from e
    if not isinstance(data, dict) or not isinstance(data.get("defenses"), dict):
        raise QianmoError("expected a mapping with a `defenses:` mapping", file=str(path))
    return _stacks(data, str(path))


def resolve_defenses(
    names: list[str], extra: dict[str, DefenseStack] | None = None
) -> list[DefenseStack]:
    known = {**builtin_defenses(), **(extra or {})}
    missing = [n for n in names if n not in known]
    if missing:
        raise QianmoError(
            f"unknown defense {missing[0]!r} (one of: {', '.join(sorted(known))})", field="defense"
        )
    return [known[n] for n in names]


def compile_patterns(patterns: list[str], default_key: str) -> re.Pattern[str]:
    chosen = patterns or list(load_data("defenses.yaml")[default_key])
    try:
        return re.compile("|".join(f"(?:{p})" for p in chosen), re.IGNORECASE)
    except re.error as e:
        raise QianmoError(f"bad pattern: {e}", field=default_key) from e


def guard_prompt() -> str:
    return str(load_data("defenses.yaml")["guard_prompt"])
