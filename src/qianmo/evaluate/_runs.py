"""Runs: ask a model every suite item (every rotation), store everything, score, resume.

A run is identified by suite, model and configuration: asking again for an unfinished one
resumes it (stored responses are skipped); a finished one asked again makes a new run,
answered from the response cache without a request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select

from qianmo._warm import import_in_background
from qianmo.errors import NotFound, QianmoError
from qianmo.evaluate._extract import (
    Extraction,
    extract_choice,
    extract_cvss,
    extract_ids,
    extract_text,
)
from qianmo.evaluate._hierarchy import load_hierarchy
from qianmo.evaluate._items import Item
from qianmo.evaluate._prompts import Rotation, Template, load_template, pick_shots, rotate
from qianmo.evaluate._report import summarise
from qianmo.evaluate._scorers import Score, ScoreContext, default_scorer, get_scorer
from qianmo.evaluate._shots import shot_pool
from qianmo.evaluate._suites import SuiteInfo, suite_items
from qianmo.llm import (
    BatchStats,
    Completion,
    ItemResult,
    Message,
    OpenAIBackend,
    run_batch,
    run_sync,
)
from qianmo.standard import new_id, utcnow
from qianmo.store import Database, EvalResponseRow, EvalRunRow, audit


class RunConfig(BaseModel):
    """What, besides the model, decides a run's answers and scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = "default"
    shots: int = Field(default=0, ge=0)
    shot_seed: int = 0
    circular: bool = False
    reask: bool = False
    system: str | None = None
    scorer: str | None = None  # None: each item's default (accuracy, token_f1, ids, cvss)


@dataclass(frozen=True)
class Task:
    item: Item
    rotation: Rotation | None
    messages: list[Message]

    @property
    def key(self) -> str:
        return f"{self.item.position}:{self.rotation.shift if self.rotation else 0}"


@dataclass(frozen=True)
class Answer:
    """One task's outcome; `completion` is what the batch runner counts tokens from."""

    task: Task
    completion: Completion
    response: str
    messages: list[Message]
    extraction: Extraction
    score: Score


def extract(item: Item, text: str | None, rotation: Rotation | None = None) -> Extraction:
    kind = item.answer_type
    if kind in {"choice", "multi"}:
        choices = rotation.choices if rotation else item.choices
        return extract_choice(text, choices, multi=kind == "multi")
    return {"ids": extract_ids, "cvss": extract_cvss}.get(kind, extract_text)(text)


def score(
    item: Item,
    got: Extraction,
    ctx: ScoreContext,
    scorer: str | None,
    rotation: Rotation | None = None,
) -> Score:
    target = item
    if rotation is not None:  # score against the rotated labels
        target = Item(
            **{
                **item.__dict__,
                "content": {
                    **item.content,
                    "choices": rotation.choices,
                    "answer": rotation.truth if item.answer_type == "multi" else rotation.truth[0],
                },
            }
        )
    return get_scorer(scorer or default_scorer(item))(target, got, ctx)


def outcome(got: Extraction, value: Score) -> str:
    if not got.valid:
        return "invalid"
    return "correct" if value.value >= 1 else "partial" if value.value > 0 else "wrong"


def build_tasks(
    items: list[Item], template: Template, config: RunConfig, pool: list[Item]
) -> list[Task]:
    tasks: list[Task] = []
    for item in items:
        shots = pick_shots(pool, item, config.shots, config.shot_seed)
        shifts = range(len(item.choices)) if config.circular and item.kind == "mcq" else [None]
        for shift in shifts:
            rotation = rotate(item, shift) if shift is not None else None
            messages = template.messages(item, rotation=rotation, shots=shots, system=config.system)
            tasks.append(Task(item, rotation, messages))
    return tasks


def _find_run(db: Database, suite: SuiteInfo, model: str, config: dict[str, Any]) -> str | None:
    with db.read() as s:
        rows = s.execute(
            select(EvalRunRow)
            .where(
                EvalRunRow.suite_id == suite.id,
                EvalRunRow.model == model,
                EvalRunRow.status != "done",
            )
            .order_by(EvalRunRow.created_at.desc())
        ).scalars()
        return next((r.id for r in rows if r.config == config), None)


def _done_keys(db: Database, run_id: str) -> set[str]:
    with db.read() as s:
        rows = s.execute(
            select(EvalResponseRow.position, EvalResponseRow.rotation).where(
                EvalResponseRow.run_id == run_id, EvalResponseRow.outcome != "error"
            )
        ).all()
    return {f"{p}:{r}" for p, r in rows}


def _row(run_id: str, result: ItemResult[Answer], tasks: dict[str, Task]) -> dict[str, Any]:
    task = tasks[result.key]
    position, rotation = (int(x) for x in result.key.split(":"))
    base = {"run_id": run_id, "position": position, "rotation": rotation, "created_at": utcnow()}
    a = result.value
    if a is None:
        return {
            **base,
            "prompt": task.messages,
            "response": None,
            "outcome": "error",
            "error": result.error,
            "extracted": {},
            "score": None,
            "latency_s": 0.0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cached": False,
        }
    return {
        **base,
        "prompt": a.messages,
        "response": a.response,
        "latency_s": a.completion.latency_s,
        "prompt_tokens": a.completion.prompt_tokens,
        "completion_tokens": a.completion.completion_tokens,
        "cached": a.completion.cached,
        "extracted": {
            **a.extraction.as_dict(),
            **({"metrics": a.score.metrics} if a.score.metrics else {}),
        },
        "score": a.score.value,
        "outcome": outcome(a.extraction, a.score),
        "error": None,
    }


ProgressFn = Callable[[BatchStats], None]


async def _ask(
    backend: OpenAIBackend, task: Task, template: Template, config: RunConfig, ctx: ScoreContext
) -> Answer:
    completion = await backend.complete(task.messages)
    got = extract(task.item, completion.text, task.rotation)
    messages, response = task.messages, completion.text
    if not got.valid and config.reask:
        messages = [
            *task.messages,
            {"role": "assistant", "content": completion.text},
            {"role": "user", "content": template.reminder(task.item.lang)},
        ]
        again = await backend.complete(messages)
        got = extract(task.item, again.text, task.rotation)
        response = f"{completion.text}\n\n[re-asked]\n{again.text}"
        completion = Completion(
            again.text,
            again.finish_reason,
            completion.prompt_tokens + again.prompt_tokens,
            completion.completion_tokens + again.completion_tokens,
            completion.latency_s + again.latency_s,
            completion.cached and again.cached,
        )
    return Answer(
        task,
        completion,
        response,
        messages,
        got,
        score(task.item, got, ctx, config.scorer, task.rotation),
    )


def run_suite(
    db: Database,
    suite: SuiteInfo,
    backend: OpenAIBackend,
    config: RunConfig | None = None,
    *,
    concurrency: int = 16,
    progress: ProgressFn | None = None,
    actor: str = "system",
    cutoff: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) `backend` on the suite; returns the run's summary."""
    config = config or RunConfig()
    template = load_template(config.template)
    stored = {
        **config.model_dump(),
        "model": backend.config.params(),
        "template_version": template.version,
    }
    run_id = _find_run(db, suite, backend.name, stored)
    if run_id is None:
        run_id = new_id()
        with db.write() as s:
            s.add(
                EvalRunRow(
                    id=run_id, suite_id=suite.id, model=backend.name, config=stored, actor=actor
                )
            )
    else:  # a resumed run retries its failed items
        with db.write() as s:
            s.query(EvalResponseRow).filter_by(run_id=run_id, outcome="error").delete()
    items = suite_items(db, suite.id)
    pool = shot_pool(db, suite) if config.shots else []
    with db.read() as s:
        ctx = ScoreContext(load_hierarchy(s))
    tasks = {t.key: t for t in build_tasks(items, template, config, pool)}

    def save(results: list[ItemResult[Answer]]) -> None:
        with db.write() as s:
            s.execute(insert(EvalResponseRow), [_row(run_id, r, tasks) for r in results])

    async def go() -> BatchStats:
        try:
            return await run_batch(
                tasks.items(),
                lambda t: _ask(backend, t, template, config, ctx),
                concurrency=concurrency,
                done=_done_keys(db, run_id),
                on_results=save,
                progress=progress,
            )
        finally:
            await backend.aclose()

    import_in_background("numpy")  # for the report's intervals, while requests are in flight
    stats = run_sync(go())
    return finish_run(db, run_id, stats=stats.as_dict(), actor=actor, cutoff=cutoff, items=items)


def finish_run(
    db: Database,
    run_id: str,
    *,
    stats: dict[str, Any] | None = None,
    actor: str,
    cutoff: str | None = None,
    exclude_contaminated: bool = False,
    items: list[Item] | None = None,
) -> dict[str, Any]:
    """Summarise the stored responses and mark the run done (or failed, if items errored).

    `items` are the suite's, when the caller has them already."""
    # The columns reports read, not whole rows: prompts and responses are the bulk of a run.
    cols = (
        EvalResponseRow.position,
        EvalResponseRow.outcome,
        EvalResponseRow.score,
        EvalResponseRow.extracted,
    )
    with db.read() as s:
        run = s.get(EvalRunRow, run_id)
        if run is None:
            raise NotFound(f"no run {run_id!r}", field="run")
        responses = s.execute(select(*cols).where(EvalResponseRow.run_id == run_id)).all()
        suite_id = run.suite_id
    if items is None:
        items = suite_items(db, suite_id)
    summary = summarise(items, responses, cutoff=cutoff, exclude_contaminated=exclude_contaminated)
    with db.write() as s:
        run = s.get(EvalRunRow, run_id)
        assert run is not None
        summary = {"run": run_id, "model": run.model, **summary}
        if stats is not None:
            summary["requests"] = stats
        elif "requests" in run.summary:
            summary["requests"] = run.summary["requests"]
        run.summary = summary
        run.status = "failed" if summary["errors"] else "done"
        run.finished_at = utcnow()
        audit(s, actor=actor, action="eval.run", object_type="eval_run", object_ids=[run_id])
    return summary


def rescore(db: Database, run_id: str, scorer: str, *, actor: str) -> dict[str, Any]:
    """Re-extract and re-score the stored responses with `scorer`; no model is called."""
    get_scorer(scorer)  # an unknown name fails before anything changes
    with db.read() as s:
        run = s.get(EvalRunRow, run_id)
        if run is None:
            raise NotFound(f"no run {run_id!r}", field="run")
        ctx = ScoreContext(load_hierarchy(s))
        suite_id, config = run.suite_id, dict(run.config)
    items = {i.position: i for i in suite_items(db, suite_id)}
    with db.write() as s:
        for row in s.execute(
            select(EvalResponseRow).where(
                EvalResponseRow.run_id == run_id, EvalResponseRow.outcome != "error"
            )
        ).scalars():
            item = items[row.position]
            rotation = (
                rotate(item, row.rotation)
                if config.get("circular") and item.kind == "mcq"
                else None
            )
            text = row.response.split("\n\n[re-asked]\n")[-1] if row.response else row.response
            got = extract(item, text, rotation)
            value = score(item, got, ctx, scorer, rotation)
            row.extracted = {
                **got.as_dict(),
                **({"metrics": value.metrics} if value.metrics else {}),
            }
            row.score, row.outcome = value.value, outcome(got, value)
        run = s.get(EvalRunRow, run_id)
        assert run is not None
        run.config = {**config, "scorer": scorer}
    if not config:
        raise QianmoError("run has no configuration", object_id=run_id)
    return finish_run(db, run_id, actor=actor)
