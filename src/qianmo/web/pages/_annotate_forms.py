"""Shared by the labelling and review pages: how questions show as form fields, how a
posted form becomes answers, and record content as plain text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import FormData

from qianmo.annotate import Question
from qianmo.standard import Record, load_taxonomy
from qianmo.web.pages._readable import as_json, readable

FIELD_PREFIX = "q."
# Keys that also pick an answer of a preference question (besides 1, 2, 3).
PREFERENCE_KEYS = {"a": "A is better", "b": "B is better", "tie": "tie"}
LIST_TYPES = ("multi", "mcq")


@dataclass(frozen=True)
class Field:
    """One question as the page shows it: its picks (with keys) or a text area."""

    question: Question
    picks: list[tuple[str, str, str]]  # (key, value, label)
    multiple: bool
    text: str  # the initial text of a text area or input
    chosen: frozenset[str] = frozenset()  # picks already made (shown again after an error)

    @property
    def keyed(self) -> bool:
        return bool(self.picks)


def _pick_label(q: Question, value: str, record: Record) -> str:
    if q.type == "preference":
        return PREFERENCE_KEYS[value]
    if q.type == "mcq":
        return f"{value}. {(record.content.get('choices') or {}).get(value, '')}"
    if q.type == "rating" and value in q.rubric:
        return f"{value} — {q.rubric[value]}"
    return value


def _picks(q: Question, record: Record) -> list[str]:
    if q.type == "mcq":
        return [str(c) for c in (record.content.get("choices") or {})]
    return q.choices()


def _initial(q: Question, record: Record, given: Any) -> str:
    if given is not None:
        return given if isinstance(given, str) else orjson.dumps(given).decode()
    if q.type == "rewrite":
        return as_json(record.content.get(q.field, ""))
    return ""


def fields(questions: list[Question], record: Record, given: dict[str, Any]) -> list[Field]:
    out = []
    for q in questions:
        values = _picks(q, record)
        picks = [
            (str(n) if n <= 9 else "", v, _pick_label(q, v, record))
            for n, v in enumerate(values, 1)
        ]
        value = given.get(q.name)
        text = "" if picks else _initial(q, record, value)
        chosen = frozenset(str(v) for v in (value if isinstance(value, list) else [value]) if v)
        out.append(Field(q, picks, q.type in LIST_TYPES, text, chosen))
    return out


def answers_of(form: FormData, questions: list[Question]) -> dict[str, Any]:
    """A posted form's answers: `q.NAME` fields; multi-answer questions as lists."""
    out: dict[str, Any] = {}
    for q in questions:
        key = FIELD_PREFIX + q.name
        if q.type in LIST_TYPES:
            out[q.name] = [str(v) for v in form.getlist(key)]
        else:
            value = form.get(key)
            out[q.name] = value if isinstance(value, str) else None
    return out


def content(record: Record) -> list[tuple[str, str]]:
    return [(k, readable(v)) for k, v in record.content.items()]


def taxonomy_codes(questions: list[Question]) -> list[tuple[str, str]]:
    if not any(q.type == "taxonomy" for q in questions):
        return []
    return [(d.code, d.label_en) for d in load_taxonomy().domains.values()]


def form_values(questions: list[Question], result: dict[str, Any]) -> dict[str, Any]:
    """A settled or proposed result as the form's initial values (a rewrite: its new text)."""
    out: dict[str, Any] = {}
    for q in questions:
        value = result.get(q.name)
        if q.type == "rewrite":
            value = value.get("text") if isinstance(value, dict) else None
        out[q.name] = value
    return out


def answer_text(answer: Any) -> str:
    """A label's answer for display: a rewrite as its diff, anything else as text or JSON."""
    if isinstance(answer, dict) and "diff" in answer:
        return str(answer["diff"])
    if isinstance(answer, dict) and answer.get("keep"):
        return "(keep)"
    return as_json(answer)
