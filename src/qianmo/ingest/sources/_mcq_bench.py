"""CyberMetric and SecEval: multiple-choice benchmarks (SecEval answers may name several)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qianmo.ingest.sources._benchdata import bench_source
from qianmo.ingest.sources._common import (
    OnReject,
    Rejected,
    SourceError,
    build_record,
    load_json,
    reject_or_raise,
    skip_rejected,
)
from qianmo.standard import Record

_LABELLED = re.compile(r"^\s*([A-Z])\s*[:.)]\s*(.*)$", re.S)


def _mcq(
    question: Any, choices: dict[str, str], answer: list[str], source: dict[str, Any]
) -> dict[str, Any]:
    return {
        "kind": "mcq",
        "lang": "en",
        "eval_only": True,
        "content": {
            "question": question,
            "choices": choices,
            "answer": answer[0] if len(answer) == 1 else answer,
        },
        "source": source,
    }


def _letters(raw: Any) -> list[str]:
    """'B', 'ABD', 'A, C' → ['B'], ['A','B','D'], ['A','C']."""
    return [c for c in str(raw or "").upper() if c.isalpha()]


def _items(data: Any, path: Path, key: str | None) -> list[Any]:
    items = data.get(key) if key and isinstance(data, dict) else data
    if not isinstance(items, list):
        where = f"a top-level {key!r} list" if key else "a top-level list"
        raise SourceError(f"expected {where} of questions", file=str(path))
    return items


def _emit(
    data: dict[str, Any], location: str, raw: Any, on_reject: OnReject | None
) -> Iterator[Record]:
    if not data["content"]["answer"]:
        reject_or_raise(
            on_reject or skip_rejected, Rejected(location, "answer: is empty", str(raw)[:2000])
        )
        return
    try:
        yield build_record(data, location)
    except SourceError as e:
        reject_or_raise(on_reject or skip_rejected, Rejected(location, e.message, str(raw)[:2000]))


def read_cybermetric(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[Record]:
    """CyberMetric JSON: {"questions": [{question, answers: {A..D}, solution}]}."""
    path = Path(path)
    for n, q in enumerate(_items(load_json(path), path, "questions"), start=1):
        where = f"{path}: question {n}"
        if not isinstance(q, dict):
            reject_or_raise(
                on_reject or skip_rejected, Rejected(where, "not an object", str(q)[:2000])
            )
            continue
        source = bench_source("cybermetric", "cybermetric", options, original_id=str(n))
        choices = {str(k): str(v) for k, v in (q.get("answers") or {}).items()}
        answer = _letters(q.get("solution"))
        yield from _emit(_mcq(q.get("question"), choices, answer, source), where, q, on_reject)


def _seceval_choices(raw: Any) -> dict[str, str]:
    """SecEval writes choices as "A: text"; the letter becomes the label."""
    choices: dict[str, str] = {}
    for n, item in enumerate(raw or []):
        m = _LABELLED.match(str(item))
        label, text = (m.group(1), m.group(2)) if m else (chr(ord("A") + n), str(item))
        choices[label] = text.strip()
    return choices


def read_seceval(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[Record]:
    """SecEval JSON: [{id, source, question, choices ["A: …"], answer "AB", topics, keyword}]."""
    path = Path(path)
    for n, q in enumerate(_items(load_json(path), path, None), start=1):
        if not isinstance(q, dict):
            reject_or_raise(
                on_reject or skip_rejected, Rejected(f"{path}: item {n}", "not an object", str(q))
            )
            continue
        where = f"{path}: item {n} ({q.get('id')})"
        source = bench_source("seceval", "seceval", options, original_id=q.get("id"))
        data = _mcq(
            q.get("question"), _seceval_choices(q.get("choices")), _letters(q.get("answer")), source
        )
        topics = q.get("topics") or []
        data["tags"] = [f"topic:{t}" for t in topics if isinstance(t, str)]
        if q.get("source"):
            data["tags"].append(f"origin:{q['source']}")
        yield from _emit(data, where, q, on_reject)
