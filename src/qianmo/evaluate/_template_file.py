"""Reading a prompt template file: every error names the file, the line and the field.

Templates are data that people edit, so a typo must point at itself: a YAML syntax error
at its line, a missing part at its language's line, a wrong type or an unknown placeholder
(`{questoin}` would otherwise be sent to the model verbatim) at the value's own line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml

from qianmo._yaml import safe_load
from qianmo.errors import QianmoError

ANSWER_TYPES = ("choice", "multi", "text", "ids", "cvss")
REQUIRED = (*ANSWER_TYPES, "choice_line", "shot_answer", "reminder")
# The placeholders each part may use; anything else in braces is a typo.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "choice": frozenset({"question", "choices"}),
    "multi": frozenset({"question", "choices"}),
    "text": frozenset({"question"}),
    "ids": frozenset({"question"}),
    "cvss": frozenset({"question"}),
    "choice_line": frozenset({"label", "text"}),
    "shot_answer": frozenset({"answer"}),
    "reminder": frozenset(),
    "system": frozenset(),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class TemplateData:
    name: str
    version: int
    langs: dict[str, dict[str, Any]]


def _lines(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    """`field path -> 1-based line` for every key of nested mappings."""
    out: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key, value in node.value:
        path = f"{prefix}{key.value}"
        out[path] = key.start_mark.line + 1
        # A block scalar (`|-`) starts on the indicator's line; its text, one line below.
        block = isinstance(value, yaml.ScalarNode) and value.style in {"|", ">"}
        out[f"{path}:value"] = value.start_mark.line + 1 + block
        out.update(_lines(value, f"{path}."))
    return out


def _fail(
    message: str, where: str, lines: dict[str, int], field: str, *, value: bool, offset: int = 0
) -> NoReturn:
    """Raise at the field's key line, or at its value's line plus `offset` lines into it."""
    line = lines.get(f"{field}:value" if value else field)
    raise QianmoError(
        message, file=where, line=None if line is None else line + offset, field=field
    )


def _check_lang(lang: str, parts: dict[str, Any], where: str, lines: dict[str, int]) -> None:
    for key, text in parts.items():
        field = f"{lang}.{key}"
        if key not in PLACEHOLDERS:
            known = ", ".join(PLACEHOLDERS)
            _fail(f"unknown part {key!r} (one of: {known})", where, lines, field, value=False)
        if text is None and key == "system":
            continue
        if not isinstance(text, str):
            _fail(f"must be text, not {type(text).__name__}", where, lines, field, value=True)
        for m in _PLACEHOLDER.finditer(text):
            if m.group(1) in PLACEHOLDERS[key]:
                continue
            allowed = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS[key])) or "none"
            _fail(
                f"unknown placeholder {m.group(0)} (allowed here: {allowed})",
                where,
                lines,
                field,
                value=True,
                offset=text[: m.start()].count("\n"),  # exact for block text, the usual style
            )
    # After the parts: a misspelt part is reported as itself, not as the one it lacks.
    missing = [k for k in REQUIRED if k not in parts]
    if missing:
        _fail(f"missing {', '.join(missing)}", where, lines, lang, value=False)


def parse_template(text: str, where: str) -> TemplateData:
    """Parse and check a template file's text; `where` names it in errors."""
    try:
        node = yaml.compose(text)
        data = safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise QianmoError(f"invalid YAML: {getattr(e, 'problem', e)}", file=where, line=line) from e
    lines = _lines(node)
    if not isinstance(data, dict) or not isinstance(data.get("en"), dict):
        raise QianmoError("a template needs name, version and an `en` section", file=where)
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail("must be a whole number ≥ 1", where, lines, "version", value=True)
    langs: dict[str, dict[str, Any]] = {}
    for key, parts in data.items():
        if key in {"name", "version"}:
            continue
        if not isinstance(parts, dict):
            _fail("a language section maps parts to text", where, lines, str(key), value=True)
        _check_lang(str(key), parts, where, lines)
        langs[str(key)] = parts
    return TemplateData(str(data.get("name", where)), int(version), langs)
