"""Mappings: a small YAML file that turns a raw row of any shape into a record dict.

```yaml
kind: mcq                      # a constant, like any field under `constants`
fields:                        # record field (dotted) ← column, or a rule
  content.question: question
  content.choices: {from: choices, transform: labelled_choices}
  content.answer: {from: answer, transform: letters}
  tags: {from: topics}
constants:
  source.name: seceval
```

A rule is `{from: COLUMN}` (dotted paths reach into nested columns) or `{join: [COLUMN…]}`
(columns become choices labelled A, B, …, or `labels:`), with optional `transform:` (one
name or a list, applied in order). Without a mapping a row is taken as a record dict, and
dotted column names (`source.org`) are nested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qianmo._yaml import safe_load
from qianmo.errors import QianmoError
from qianmo.standard import FieldProblem

MISSING = object()
Transform = Callable[[Any, dict[str, Any]], Any]


class TransformError(ValueError):
    """A value a transform cannot convert; it becomes the row's problem for that field."""


def _split(value: Any, rule: dict[str, Any]) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    sep = rule.get("sep", ",")
    return [part.strip() for part in str(value).split(sep) if part.strip()]


def _labels(rule: dict[str, Any], n: int) -> list[str]:
    labels = rule.get("labels") or [chr(ord("A") + i) for i in range(n)]
    return [str(x) for x in labels]


def _letter_to_index(value: Any, rule: dict[str, Any]) -> int:
    text = str(value).strip().upper()
    if len(text) != 1 or not "A" <= text <= "Z":
        raise TransformError(f"{value!r} is not a letter A–Z")
    return ord(text) - ord("A") + int(rule.get("base", 0))


def _index_to_letter(value: Any, rule: dict[str, Any]) -> str:
    try:
        index = int(value) - int(rule.get("base", 0))
    except (TypeError, ValueError) as e:
        raise TransformError(f"{value!r} is not an index") from e
    if not 0 <= index < 26:
        raise TransformError(f"{value!r} is out of range for a letter")
    return chr(ord("A") + index)


def _letters(value: Any, rule: dict[str, Any]) -> str | list[str]:
    """`"B"` → `"B"`; `"ACD"`, `"A, C"` or `["A", "C"]` → `["A", "C", "D"]` (several answers)."""
    items = value if isinstance(value, list) else list(str(value).replace(",", " ").split())
    letters = [ch for item in items for ch in str(item).strip().upper() if ch.strip()]
    if not letters:
        raise TransformError("no answer letter")
    return letters[0] if len(letters) == 1 and not isinstance(value, list) else letters


_LABELLED = re.compile(r"^\(?([A-Za-z])\)?\s*[:.)：]\s*(.*)$", re.DOTALL)


def _labelled_choices(value: Any, rule: dict[str, Any]) -> dict[str, str]:
    """`["A: text", "B. text", "(C) text"]` → `{"A": "text", …}`; unlabelled items get A, B, …"""
    if not isinstance(value, list):
        raise TransformError("is not a list of choices")
    labels = _labels(rule, len(value))
    out: dict[str, str] = {}
    for i, item in enumerate(value):
        m = _LABELLED.match(str(item).strip())
        if m:
            out[m.group(1).upper()] = m.group(2).strip()
        elif i < len(labels):
            out[labels[i]] = str(item).strip()
    return out


def _map_values(value: Any, rule: dict[str, Any]) -> Any:
    table = rule.get("values") or {}
    if str(value) not in table:
        if "default" in rule:
            return rule["default"]
        raise TransformError(f"{value!r} is not one of {sorted(table)}")
    return table[str(value)]


def _to_int(value: Any, rule: dict[str, Any]) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as e:
        raise TransformError(f"{value!r} is not a whole number") from e


TRANSFORMS: dict[str, Transform] = {
    "split": _split,
    "letter_to_index": _letter_to_index,
    "index_to_letter": _index_to_letter,
    "letters": _letters,
    "labelled_choices": _labelled_choices,
    "map": _map_values,
    "int": _to_int,
    "strip": lambda v, r: str(v).strip(),
    "lower": lambda v, r: str(v).lower(),
    "upper": lambda v, r: str(v).upper(),
}


def get_path(data: dict[str, Any], path: str) -> Any:
    """`data["a"]["b"]` for `"a.b"`, or a column literally named `"a.b"`; MISSING if absent."""
    if path in data:
        return data[path]
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys become nested objects: `{"source.org": "x"}` → `{"source": {"org": "x"}}`."""
    if not any("." in k for k in flat):
        return flat
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key].update(value)
        else:
            set_path(out, key, value)
    return out


@dataclass(frozen=True)
class Rule:
    target: str
    source: str | None = None
    join: tuple[str, ...] = ()
    transforms: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def value(self, row: dict[str, Any]) -> Any:
        if self.join:
            values = [get_path(row, c) for c in self.join]
            labels = _labels(self.params, len(values))
            present = [
                (label, v)
                for label, v in zip(labels, values, strict=False)
                if v is not MISSING and v is not None and str(v).strip()
            ]
            value: Any = {lbl: str(v) for lbl, v in present} if present else MISSING
        else:
            value = get_path(row, self.source or "")
        if value is MISSING or value is None:
            return MISSING
        for name in self.transforms:
            value = TRANSFORMS[name](value, self.params)
        return value


@dataclass(frozen=True)
class Mapping:
    """Column → field rules plus constants; `apply` builds the record dict for one row."""

    rules: tuple[Rule, ...]
    constants: dict[str, Any] = field(default_factory=dict)
    name: str = "mapping"

    def apply(self, row: dict[str, Any]) -> tuple[dict[str, Any], list[FieldProblem]]:
        out: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for key, value in self.constants.items():
            set_path(out, key, value)
        for rule in self.rules:
            try:
                value = rule.value(row)
            except TransformError as e:
                problems.append(FieldProblem(rule.target, str(e)))
                continue
            if value is not MISSING:
                set_path(out, rule.target, value)
        return out, problems


def _rule(target: str, spec: Any, where: str) -> Rule:
    if isinstance(spec, str):
        return Rule(target, source=spec)
    if not isinstance(spec, dict) or not ({"from", "join"} & set(spec)):
        raise QianmoError(
            "write a column name, {from: COLUMN} or {join: [COLUMN…]}", file=where, field=target
        )
    transforms = spec.get("transform") or []
    transforms = (transforms,) if isinstance(transforms, str) else tuple(transforms)
    for name in transforms:
        if name not in TRANSFORMS:
            known = ", ".join(sorted(TRANSFORMS))
            raise QianmoError(
                f"unknown transform {name!r} (known: {known})", file=where, field=target
            )
    params = {k: v for k, v in spec.items() if k not in ("from", "join", "transform")}
    join = tuple(str(c) for c in spec.get("join") or ())
    return Rule(target, source=spec.get("from"), join=join, transforms=transforms, params=params)


def mapping_from_dict(data: Any, where: str = "mapping") -> Mapping:
    if not isinstance(data, dict):
        raise QianmoError("a mapping is a YAML object with fields: and constants:", file=where)
    unknown = set(data) - {"kind", "fields", "constants", "description"}
    if unknown:
        raise QianmoError(
            f"unknown keys {sorted(unknown)}: use kind, fields, constants", file=where
        )
    constants = dict(data.get("constants") or {})
    if "kind" in data:
        constants["kind"] = data["kind"]
    rules = tuple(_rule(str(t), s, where) for t, s in (data.get("fields") or {}).items())
    return Mapping(rules, constants, name=where)


def load_mapping(path: Path) -> Mapping:
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise QianmoError(f"cannot read the mapping: {e.strerror}", file=str(path)) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise QianmoError(
            f"invalid YAML: {getattr(e, 'problem', e)}", file=str(path), line=line
        ) from e
    return mapping_from_dict(data, str(path))
