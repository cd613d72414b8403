"""Factories for evaluation tests: accepted MCQ/QA records, suites, a model on a local server."""

from __future__ import annotations

from typing import Any

from qianmo.evaluate import SuiteInfo, create_suite
from qianmo.llm import OpenAIBackend, ResponseCache, model_config
from qianmo.standard import Record
from qianmo.store import Database, RecordFilter, add_records
from tests.helpers.records import make_record

CHOICES = {"A": "Audit", "B": "Execution Prevention", "C": "Encryption", "D": "User Training"}


def mcq(answer: str | list[str] = "B", choices: dict[str, str] | None = None, **kw: Any) -> Record:
    n = kw.pop("n", 0)
    content = {
        "question": kw.pop("question", f"Question {n}: which mitigation fits?"),
        "choices": choices or CHOICES,
        "answer": answer,
    }
    kw.setdefault("source", {"name": "evaltest"})
    return make_record("mcq", content=content, status="accepted", **kw)


def qa(answer: str, answer_type: str = "text", **kw: Any) -> Record:
    content = {
        "question": kw.pop("question", f"Q about {answer}?"),
        "answer": answer,
        "answer_type": answer_type,
    }
    kw.setdefault("source", {"name": "evaltest"})
    return make_record("qa", content=content, status="accepted", **kw)


def add(db: Database, records: list[Record]) -> None:
    with db.write() as s:
        add_records(s, records, actor="test")


def suite(db: Database, name: str = "s", *filters: str, limit: int | None = None) -> SuiteInfo:
    return create_suite(
        db, name, RecordFilter.parse(filters or ["source=evaltest"]), limit=limit, actor="test"
    )


def backend(
    db: Database, url: str, name: str = "m", *, cache: bool = True, **kw: Any
) -> OpenAIBackend:
    cfg = model_config(name, base_url=url, retry_base=0.001, **kw)
    return OpenAIBackend(cfg, cache=ResponseCache(db) if cache else None)
