"""Questions: the spec grammar (`correct:choice[yes,no,unsure]`), YAML files, answer checks.

Grammar, one question per spec:  NAME:TYPE[ARGS]
  choice[a,b,c]   one of the options           multi[a,b,c]   any subset of the options
  taxonomy        one taxonomy domain code     rating[1-5]    an integer in the range
  mcq             verify an MCQ: the right choice label(s) of the record
  rewrite[FIELD]  keep, or a corrected text of a content field (stored with a diff)
  preference      which response is better: a, b or tie
  spans[a,b]      flagged character ranges with a label (default pii,error,unsafe)
  text            a free note (never compared)
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from qianmo._yaml import safe_load
from qianmo.errors import QianmoError

TYPES = ("choice", "multi", "taxonomy", "rating", "mcq", "rewrite", "preference", "spans", "text")
PREFERENCE_OPTIONS = ("a", "b", "tie")
DEFAULT_SPAN_LABELS = ("pii", "error", "unsafe")
# Types whose answers are compared for agreement and scored against gold.
COMPARED = {"choice", "multi", "taxonomy", "rating", "mcq", "preference", "rewrite", "spans"}

_SPEC = re.compile(r"^(?P<name>[a-z][a-z0-9_]{0,63}):(?P<type>[a-z]+)(?:\[(?P<args>[^\]]*)\])?$")


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    options: tuple[str, ...] = ()
    low: int = 1
    high: int = 5
    field: str = ""
    prompt: str = ""
    rubric: dict[str, str] = dataclasses.field(default_factory=dict)
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = list(self.options)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(**{**data, "options": tuple(data.get("options", ()))})

    def choices(self) -> list[str]:
        """The answers a key press can pick, in shortcut order (1, 2, 3…)."""
        if self.type in ("choice", "multi"):
            return list(self.options)
        if self.type == "rating":
            return [str(v) for v in range(self.low, self.high + 1)]
        if self.type == "preference":
            return list(PREFERENCE_OPTIONS)
        return []


def _options(args: str | None, where: str) -> tuple[str, ...]:
    opts = tuple(a.strip() for a in (args or "").split(",") if a.strip())
    if len(opts) < 2:
        raise QianmoError("needs at least two options, e.g. choice[yes,no]", field=where)
    if len(set(opts)) != len(opts):
        raise QianmoError("options repeat", field=where)
    return opts


def _rating(args: str | None, where: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", args or "1-5")
    if m is None or int(m[1]) >= int(m[2]) or int(m[2]) - int(m[1]) > 9:
        raise QianmoError("write rating[LOW-HIGH] with at most 10 steps", field=where)
    return int(m[1]), int(m[2])


def build_question(name: str, qtype: str, args: str | None, where: str, **extra: Any) -> Question:
    """A checked Question from its parts; `where` names the spec or file line in errors."""
    if qtype not in TYPES:
        raise QianmoError(
            f"unknown question type {qtype!r} (one of: {', '.join(TYPES)})", field=where
        )
    if qtype in ("choice", "multi"):
        return Question(name, qtype, options=_options(args, where), **extra)
    if qtype == "rating":
        low, high = _rating(args, where)
        return Question(name, qtype, low=low, high=high, **extra)
    if qtype == "rewrite":
        if not args or not re.fullmatch(r"[a-z_]+", args.strip()):
            raise QianmoError("write rewrite[FIELD], e.g. rewrite[answer]", field=where)
        return Question(name, qtype, field=args.strip(), **extra)
    if qtype == "spans":
        labels = tuple(a.strip() for a in (args or "").split(",") if a.strip())
        return Question(name, qtype, options=labels or DEFAULT_SPAN_LABELS, **extra)
    if args:
        raise QianmoError(f"{qtype} takes no [arguments]", field=where)
    return Question(name, qtype, **extra)


def parse_spec(spec: str) -> Question:
    m = _SPEC.match(spec.strip())
    if m is None:
        raise QianmoError(
            f"{spec!r}: write NAME:TYPE[ARGS], e.g. correct:choice[yes,no,unsure]",
            field="question",
        )
    return build_question(m["name"], m["type"], m["args"], f"question {m['name']}")


def _yaml_word(value: Any) -> str:
    # YAML 1.1 reads bare yes/no as booleans; an option list means the words
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def load_questions(path: Path) -> list[Question]:
    """A YAML list of {name, type, options|range|field, prompt, rubric, required}."""
    try:
        raw = safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise QianmoError(f"cannot read questions: {e}", file=str(path)) from e
    if not isinstance(raw, list):
        raise QianmoError("expected a list of questions", file=str(path))
    out = []
    for n, item in enumerate(raw, 1):
        where = f"questions[{n}]"
        if not isinstance(item, dict) or not {"name", "type"} <= set(item):
            raise QianmoError("each question needs name and type", file=str(path), field=where)
        args = item.get("options") or item.get("range") or item.get("field")
        if isinstance(args, list):
            args = ",".join(_yaml_word(a) for a in args)
        extra = {
            "prompt": str(item.get("prompt", "")),
            "rubric": {str(k): str(v) for k, v in (item.get("rubric") or {}).items()},
            "required": bool(item.get("required", True)),
        }
        try:
            out.append(build_question(str(item["name"]), str(item["type"]), args, where, **extra))
        except QianmoError as e:
            raise QianmoError(e.message, file=str(path), field=where) from e
    return out
