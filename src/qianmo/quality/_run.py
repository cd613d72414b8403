"""The driver of a quality run: passes over the store, decisions, statuses, the run record.

A pipeline is cut into passes at its corpus steps: a pass streams every selected record
through the record steps before the corpus step(s) and collects their summaries; the corpus
steps then decide, and the next pass starts from the store again. Only ids and summaries
stay in memory, never the corpus.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Text, cast, select

from qianmo.quality._executors import Executor, make_executor
from qianmo.quality._heuristics import answer_skew
from qianmo.quality._pipeline import PipelineSpec
from qianmo.quality._scratch import Scratch
from qianmo.quality._step import CorpusStep, Decision, Step, StepStats
from qianmo.quality._work import PageResult, Work, parse_record
from qianmo.standard import LineageStep, Record, Status, new_id, utcnow
from qianmo.store import (
    Database,
    Edit,
    PreparedCache,
    QualityRunRow,
    RecordFilter,
    RecordRow,
    Snapshot,
    count_records,
    ids_in,
    ids_statement,
    set_status,
    store_edits,
)

ACTIVE = "status=raw,accepted,needs_review"
Progress = Callable[[int, int | None, str], None]


@dataclass
class RunOptions:
    pipeline: PipelineSpec
    selection: list[str] = field(default_factory=list)
    executor: str = "local"
    address: str | None = None
    workers: int | None = None
    page_size: int = 500

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline.model_dump(),
            "selection": self.selection,
            "executor": self.executor,
            "address": self.address,
            "workers": self.workers,
            "page_size": self.page_size,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOptions:
        return cls(
            pipeline=PipelineSpec.model_validate(data["pipeline"]),
            selection=list(data.get("selection") or []),
            executor=data.get("executor") or "local",
            address=data.get("address"),
            workers=data.get("workers"),
            page_size=int(data.get("page_size") or 500),
        )


@dataclass
class _State:
    """What the driver remembers across passes: ids and verdicts, never record content."""

    run_id: str
    actor: str
    scratch: Scratch  # every selected id, and the dedup steps' summaries: on disk
    review: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    versions: int = 0


def _passes(steps: Sequence[Step]) -> list[list[int]]:
    """Step indices per pass: record steps, then the corpus steps that close the pass."""
    passes: list[list[int]] = [[]]
    for i, step in enumerate(steps):
        closes = passes[-1] and steps[passes[-1][-1]].corpus
        if closes and not step.corpus:
            passes.append([])
        passes[-1].append(i)
    return passes


# A record's document as its stored JSON text, for workers that parse and validate in one step.
_RAW = cast(RecordRow.data, Text).label("raw")


def _pages(db: Database, flt: RecordFilter, size: int) -> Iterator[list[str]]:
    """Record documents as JSON text in id order, a page at a time: the workers parse and
    validate them in one step (pydantic from JSON text took 45 µs a record, parsing to a
    dict first and validating that 75)."""
    after = ""
    while True:
        with db.read() as s:
            query = flt.apply(select(RecordRow.id)).add_columns(_RAW).where(RecordRow.id > after)
            rows = s.execute(query.order_by(RecordRow.id).limit(size)).all()
        if not rows:
            return
        yield [row.raw for row in rows]
        after = rows[-1].id


def _records(session: Any, ids: Sequence[str]) -> dict[str, Record]:
    """The records of these ids (a few hundred: one query), validated from their JSON text
    in one step, as the workers do."""
    query = select(RecordRow.id, _RAW).where(RecordRow.id.in_(ids))
    return {row.id: parse_record(row.raw) for row in session.execute(query)}


def _load(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    """Records by id, read a few hundred per query."""
    out: dict[str, Record] = {}
    for start in range(0, len(ids), 500):
        with db.read() as s:
            out.update(_records(s, ids[start : start + 500]))
    return out


def _reject(session: Any, state: _State, reasons: dict[str, str]) -> None:
    """Reject with named reasons, one status change (one audit entry) per reason."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for rid, reason in reasons.items():
        if rid in state.protected:
            continue
        by_reason[reason].append(rid)
        state.rejected[rid] = reason
    for reason, ids in sorted(by_reason.items()):
        set_status(
            session, ids, Status.REJECTED, reason=reason, actor=state.actor, action="quality.reject"
        )


def _apply_page(db: Database, state: _State, page: PageResult) -> None:
    change = f"quality.run:{state.run_id}"
    # Before the store's write lock, not under it: the scratch file is the run's own.
    state.scratch.add_seen([item.id for item in page.items])
    with db.write() as s:
        for item in page.items:
            if item.protected:
                state.protected.add(item.id)
            if item.review:
                state.review[item.id] = item.review
        edited = [item.edit for item in page.items if item.edit is not None]
        state.versions += store_edits(s, edited, actor=state.actor, change=change)
        _reject(s, state, {i.id: i.reject for i in page.items if i.reject})


def _merge_flag(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A flag naming other records (`with`) accumulates over runs instead of being replaced."""
    if not old or "with" not in old or "with" not in new:
        return new
    merged = dict(new)
    merged["with"] = sorted(set(old["with"]) | set(new["with"]))
    merged["overlap"] = max(old.get("overlap", 0), new.get("overlap", 0))
    return merged


def _apply_decisions(
    db: Database, state: _State, step: Step, decisions: dict[str, Decision], stats: StepStats
) -> None:
    ids = sorted(decisions)
    change = f"quality.run:{state.run_id}"
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        with db.write() as s:
            held = _records(s, chunk)
            rejects: dict[str, str] = {}
            edited: list[Edit] = []
            for rid in chunk:
                decision = decisions[rid]
                record = held[rid]
                before = Snapshot.of(record)
                flags = {
                    name: _merge_flag(record.quality.flags.get(name), value)
                    for name, value in decision.flags.items()
                }
                changed = any(record.quality.flags.get(k) != v for k, v in flags.items())
                if changed:
                    record.quality.flags.update(flags)
                    detail = {"run": state.run_id, **decision.detail}
                    record.lineage.steps.append(
                        LineageStep(type="step", name=step.name, detail=detail)
                    )
                    edited.append(Edit.of(record, before))
                if decision.reject and rid not in state.protected:
                    rejects[rid] = decision.reject
                if decision.review:
                    state.review[rid] = decision.review
                decision.flags = flags
                stats.count(rid, decision, changed)
            state.versions += store_edits(s, edited, actor=state.actor, change=change)
            _reject(s, state, rejects)


# prepared once per chunk length (store/_prepared.py): the final pass reads every record's
# status, and SQLAlchemy's execution layer cost more than the query
_STATUSES = PreparedCache(8)


def _statuses_of(n: int) -> Any:
    # the reason alone, not the whole document (parsing those was most of this pass)
    reason = RecordRow.data["status_reason"].as_string()
    return select(RecordRow.id, RecordRow.status, reason).where(ids_in(RecordRow.id, n))


def _final_statuses(db: Database, state: _State) -> dict[str, int]:
    """Everything selected and not rejected is accepted, or needs review if a step said so."""
    counts: dict[str, int] = defaultdict(int)
    for seen in state.scratch.seen_chunks(500):
        chunk = [rid for rid in seen if rid not in state.rejected]
        if not chunk:
            continue
        groups: dict[tuple[Status, str | None], list[str]] = defaultdict(list)
        with db.write() as s:
            rows, args = ids_statement(_STATUSES, _statuses_of, chunk)
            for rid, status, reason_now in rows.on_session(s, args).rows:
                reason = state.review.get(rid)
                target = (Status.NEEDS_REVIEW, reason) if reason else (Status.ACCEPTED, None)
                if rid in state.protected or status == Status.REJECTED.value:
                    counts[status] += 1
                    continue
                counts[target[0].value] += 1
                if (status, reason_now) != (target[0].value, target[1]):
                    groups[target].append(rid)
            for (status, reason), group in sorted(groups.items(), key=lambda g: str(g[0])):
                set_status(
                    s,
                    group,
                    status,
                    reason=reason,
                    actor=state.actor,
                    action=f"quality.{status.value}",
                )
    counts["rejected"] = len(state.rejected)
    return dict(counts)


def run_quality(
    db: Database,
    options: RunOptions,
    *,
    actor: str,
    run_id: str | None = None,
    job_id: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run a pipeline over the selection and store the run (configuration, counts, examples)."""
    run_id = run_id or new_id()
    steps = options.pipeline.build()
    flt = RecordFilter.parse([ACTIVE, *options.selection])
    with db.write() as s:
        row = s.get(QualityRunRow, run_id)
        if row is None:
            s.add(
                QualityRunRow(
                    id=run_id,
                    job_id=job_id,
                    executor=options.executor,
                    actor=actor,
                    pipeline=options.pipeline.model_dump(),
                    selection=options.selection,
                )
            )
        else:  # resuming after a crash: the same run, recomputed (reruns change nothing)
            row.status, row.error = "running", None
    state = _State(run_id=run_id, actor=actor, scratch=Scratch())
    stats = [StepStats(s.name) for s in steps]
    started = time.perf_counter()
    try:
        executor = make_executor(options.executor, address=options.address, workers=options.workers)
        try:
            for number, indices in enumerate(_passes(steps)):
                run = _Pass(db, options, state, executor, number)
                run.run(steps, stats, indices, flt, progress)
        finally:
            executor.close()
        statuses = _final_statuses(db, state)
        seconds = time.perf_counter() - started
        summary = _summary(state, stats, statuses, seconds)
    finally:
        state.scratch.close()
    with db.write() as s:
        row = s.get(QualityRunRow, run_id)
        assert row is not None
        row.status, row.finished_at = "done", utcnow()
        row.steps = [st.to_json() for st in stats]
        row.summary = summary
    return {"run": run_id, **summary}


@dataclass
class _Pass:
    db: Database
    options: RunOptions
    state: _State
    executor: Executor
    number: int

    def run(
        self,
        steps: list[Step],
        stats: list[StepStats],
        indices: list[int],
        flt: RecordFilter,
        progress: Progress | None,
    ) -> None:
        specs = tuple(self.options.pipeline.steps[i] for i in indices)
        with self.db.read() as s:
            states = tuple(steps[i].prepare(s) for i in indices)
            total = count_records(s, flt)
        key = hashlib.sha256(orjson.dumps([self.state.run_id, self.number])).hexdigest()
        work = Work(run_id=self.state.run_id, steps=specs, states=states, key=key)
        corpus = [i for i in indices if steps[i].corpus]
        collectors = []
        for i in corpus:
            step = steps[i]
            assert isinstance(step, CorpusStep)
            collectors.append(step.collector(self.state.scratch))
        done = survivors = 0
        label = f"pass {self.number + 1}: {', '.join(s.name for s in specs)}"
        pages = _pages(self.db, flt, self.options.page_size)
        for page in self.executor.map_pages(work, pages):
            _apply_page(self.db, self.state, page)
            for i, st in zip(indices, page.stats, strict=True):
                stats[i].merge(st)
            for collector, part in zip(collectors, page.summaries, strict=True):
                collector.add(part)
            done += len(page.items)
            survivors += sum(1 for item in page.items if not item.reject)
            if progress is not None:
                progress(done, total, label)
        for i, collector in zip(corpus, collectors, strict=True):
            started = time.perf_counter()
            step = steps[i]
            assert isinstance(step, CorpusStep)
            step.load = partial(_load, self.db)
            decisions = collector.decide(step, self.state.rejected)
            collector.close()
            stats[i].seconds += time.perf_counter() - started
            _apply_decisions(self.db, self.state, steps[i], decisions, stats[i])
            # every surviving record went through the step, decided on or not
            stats[i].seen = survivors
            survivors -= stats[i].dropped


def _summary(
    state: _State, stats: list[StepStats], statuses: dict[str, int], seconds: float
) -> dict[str, Any]:
    records = state.scratch.seen
    reasons: dict[str, int] = defaultdict(int)
    for reason in state.rejected.values():
        reasons[reason] += 1
    tallies: dict[str, int] = defaultdict(int)
    for st in stats:
        for k, n in st.tallies.items():
            tallies[k] += n
    return {
        "records": records,
        "accepted": statuses.get("accepted", 0),
        "needs_review": statuses.get("needs_review", 0),
        "rejected": len(state.rejected),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "versions": state.versions,
        "seconds": round(seconds, 3),
        "docs_per_s": round(records / seconds, 1) if seconds else None,
        "source_flags": answer_skew(tallies),
    }
