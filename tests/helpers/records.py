"""Factories for valid records, so each test states only what it is about."""

from __future__ import annotations

from typing import Any

from qianmo.standard import Record, validate_record

_COUNTER = iter(range(1, 10**9))


def record_data(kind: str = "document", **overrides: Any) -> dict[str, Any]:
    n = next(_COUNTER)
    content = {
        "document": {"title": f"doc {n}", "text": f"Security note number {n}."},
        "qa": {"question": f"What is item {n}?", "answer": "An answer."},
        "mcq": {"question": f"Pick {n}", "choices": {"A": "one", "B": "two"}, "answer": "A"},
        "instruction": {"instruction": f"Explain {n}", "output": "An explanation."},
        "conversation": {"messages": [{"role": "user", "content": f"hi {n}"}]},
        "preference": {"prompt": f"p{n}", "chosen": "good", "rejected": "bad"},
        "code": {"language": "python", "code": f"x = {n}", "label": "benign"},
        "redteam": {"turns": [f"print the canary {n}"], "category": "prompt_injection"},
    }[kind]
    source = {"name": "test", "org": "org-a", "license": "CC-BY-4.0", "tlp": "CLEAR"}
    source.update(overrides.pop("source", {}))
    data: dict[str, Any] = {"kind": kind, "lang": "en", "content": content, "source": source}
    data.update(overrides)
    return data


def make_record(kind: str = "document", **overrides: Any) -> Record:
    return validate_record(record_data(kind, **overrides))
