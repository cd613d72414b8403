"""Checking one answer against its question, and whether k answers agree."""

from __future__ import annotations

import difflib
from collections import Counter
from typing import Any

import orjson

from qianmo.annotate._questions import COMPARED, PREFERENCE_OPTIONS, Question
from qianmo.errors import QianmoError
from qianmo.standard import Record, load_taxonomy


def _bad(q: Question, why: str) -> QianmoError:
    return QianmoError(why, field=f"answers.{q.name}")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _spans(q: Question, value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = orjson.loads(value or "[]")
        except orjson.JSONDecodeError as e:
            raise _bad(q, "spans must be a JSON list of {start, end, label}") from e
    if not isinstance(value, list):
        raise _bad(q, "spans must be a list of {start, end, label}")
    out = []
    for s in value:
        if not isinstance(s, dict):
            raise _bad(q, "each span is {start, end, label}")
        start, end, label = s.get("start"), s.get("end"), s.get("label")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end:
            raise _bad(q, "a span needs integer 0 <= start < end")
        if label not in q.options:
            raise _bad(q, f"span label {label!r} is not one of {', '.join(q.options)}")
        out.append({"start": start, "end": end, "label": label})
    return sorted(out, key=lambda s: (s["start"], s["end"], s["label"]))


def _rewrite(q: Question, value: Any, record: Record) -> dict[str, Any]:
    """Keep (empty or unchanged text) or a new text, stored with a unified diff."""
    original = str(record.content.get(q.field, ""))
    text = value.get("text") if isinstance(value, dict) else value
    text = "" if text is None else str(text).replace("\r\n", "\n")
    if not text.strip() or text == original:
        return {"keep": True}
    diff = "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{q.field} (v{record.version})",
            tofile=f"{q.field} (rewrite)",
        )
    )
    return {"text": text, "diff": diff}


def check_answer(q: Question, value: Any, record: Record) -> Any:  # noqa: C901 - one branch a type
    """The normalised answer, or a QianmoError naming the question."""
    if value is None or value == "" or value == []:
        if q.required and q.type not in ("rewrite", "spans", "multi"):
            raise _bad(q, "an answer is required")
        if q.type not in ("rewrite", "spans", "multi"):
            return None
    if q.type in ("choice", "preference"):
        options = q.options if q.type == "choice" else PREFERENCE_OPTIONS
        if str(value) not in options:
            raise _bad(q, f"{value!r} is not one of {', '.join(options)}")
        return str(value)
    if q.type == "multi":
        picked = sorted(set(_as_list(value)))
        if unknown := [v for v in picked if v not in q.options]:
            raise _bad(q, f"{unknown[0]!r} is not one of {', '.join(q.options)}")
        return picked
    if q.type == "taxonomy":
        if str(value) not in load_taxonomy():
            raise _bad(q, f"{value!r} is not a taxonomy domain code")
        return str(value)
    if q.type == "rating":
        try:
            number = int(value)
        except (TypeError, ValueError) as e:
            raise _bad(q, f"{value!r} is not a whole number") from e
        if not q.low <= number <= q.high:
            raise _bad(q, f"{number} is outside {q.low}-{q.high}")
        return number
    if q.type == "mcq":
        labels = sorted(set(_as_list(value)))
        choices = record.content.get("choices") or {}
        if not labels or any(v not in choices for v in labels):
            raise _bad(q, f"pick among the record's choices: {', '.join(choices)}")
        return labels
    if q.type == "rewrite":
        return _rewrite(q, value, record)
    if q.type == "spans":
        return _spans(q, value)
    return str(value)


def comparable(q: Question, answer: Any) -> Any:
    """The part of an answer that agreement and gold scoring compare."""
    if q.type == "rewrite":
        return answer.get("text") if isinstance(answer, dict) else None
    return answer


def agree(q: Question, answers: list[Any], *, rule: str = "unanimous") -> tuple[bool, Any]:
    """Whether the answers settle the question, and the settled value.

    `unanimous` needs every answer equal; `majority` more than half. Free text is never
    compared: its value is the list of notes.
    """
    if q.type not in COMPARED:
        return True, [a for a in answers if a]
    keys = [orjson.dumps(comparable(q, a), option=orjson.OPT_SORT_KEYS) for a in answers]
    top, count = Counter(keys).most_common(1)[0]
    winner = answers[keys.index(top)]
    if rule == "majority":
        return count * 2 > len(answers), winner
    return count == len(answers), winner


def matches_gold(q: Question, answer: Any, gold: Any) -> bool | None:
    """True/False for a compared question with a gold answer; None when not scored."""
    if q.type not in COMPARED or gold is None:
        return None
    return comparable(q, answer) == comparable(q, gold)
