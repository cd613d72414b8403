"""What a worker does with one page of records: the same code under every executor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from qianmo.quality._pipeline import StepSpec, build_step
from qianmo.quality._step import CorpusStep, Step, StepStats
from qianmo.standard import Record
from qianmo.store import Edit, Snapshot


@dataclass(frozen=True)
class Work:
    """One pass: its steps, what `prepare` gave them, and the run they belong to."""

    run_id: str
    steps: tuple[StepSpec, ...]
    states: tuple[Any, ...]
    key: str  # identifies this pass, so a worker builds its steps once per pass


@dataclass
class ItemResult:
    id: str
    # the edited record, when anything changed, as the store's next version of it (document
    # serialised, changed columns picked): made here, in parallel, so the driver only writes
    edit: Edit | None = None
    reject: str | None = None
    review: str | None = None
    protected: bool = False  # a person restored it: the run does not reject it again


@dataclass
class PageResult:
    items: list[ItemResult] = field(default_factory=list)
    stats: list[StepStats] = field(default_factory=list)
    summaries: list[list[tuple[str, Any]]] = field(default_factory=list)


_BUILT: dict[str, list[Step]] = {}


def steps_for(work: Work) -> list[Step]:
    if work.key not in _BUILT:
        _BUILT.clear()  # one pass at a time per worker
        steps = [build_step(s) for s in work.steps]
        for step, state in zip(steps, work.states, strict=True):
            step.attach(state)
        _BUILT[work.key] = steps
    return _BUILT[work.key]


def parse_record(raw: str) -> Record:
    try:
        return Record.model_validate_json(raw)
    except ValidationError:
        # NaN and the like, which the store's writer leaves to the standard library's JSON
        return Record.model_validate(json.loads(raw))


def process_page(work: Work, page: list[str]) -> PageResult:
    """Run the pass's record steps on each record, then summarise the survivors."""
    steps = steps_for(work)
    result = PageResult(stats=[StepStats(s.name) for s in steps])
    survivors: list[Record] = []
    for raw in page:
        record = parse_record(raw)
        before = Snapshot.of(record)
        item = ItemResult(
            id=record.id, protected=(record.status_reason or "").startswith("restored by")
        )
        changed = False
        for step, stats in zip(steps, result.stats, strict=True):
            if step.corpus:
                continue
            verdict = step.run(record, stats, work.run_id)
            changed = changed or verdict.changed
            item.review = item.review or verdict.review
            if verdict.reject:
                item.reject = f"{step.name}:{verdict.reject}"
                break
        if changed:
            item.edit = Edit.of(record, before)
        if item.reject is None:
            survivors.append(record)
        result.items.append(item)
    for step in steps:
        if isinstance(step, CorpusStep):
            result.summaries.append(step.summarize(survivors))
    return result
