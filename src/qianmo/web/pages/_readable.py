"""Record content as people read it in a <pre>: the escaping is the template's.

Choices, lists and conversation turns were shown as indented JSON, which makes an annotator
checking an MCQ read quotes and braces around every option. Only the shapes the record kinds
use are laid out; anything else stays JSON, so nothing is hidden.
"""

from __future__ import annotations

from typing import Any

import orjson


def readable(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        # MCQ choices ("A. …") and other labelled texts ("key: …")
        return "\n".join(f"{k}. {v}" if len(k) == 1 else f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n".join(f"- {v}" for v in value)
    if isinstance(value, list) and value and all(_is_turn(v) for v in value):
        return "\n\n".join(f"{_speaker(t)}: {t['content']}" for t in value)
    return as_json(value)


def as_json(value: Any) -> str:
    """A field as editable text: strings as they are, the rest as indented JSON."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _is_turn(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) <= {"role", "content", "name"}
        and isinstance(value.get("role"), str)
        and isinstance(value.get("content"), str)
        and isinstance(value.get("name", ""), str)
    )


def _speaker(turn: dict[str, str]) -> str:
    # a turn's name (which participant of that role spoke) is shown, not dropped
    return f"{turn['role']} ({turn['name']})" if turn.get("name") else turn["role"]
