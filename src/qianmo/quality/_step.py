"""Steps: a subclass writes one method; the base counts, times, records lineage and routes.

A *record step* looks at one record at a time (`process`) and may edit it, flag it, reject
it with a named reason or send it to people. A *corpus step* needs the whole selection: it
turns each record into a small summary in the workers (`summarize`) and decides from all
summaries at once in the driver (`decide`), e.g. which records form a duplicate cluster.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from qianmo.errors import QianmoError
from qianmo.standard import LineageStep, Record

if TYPE_CHECKING:
    from qianmo.quality._scratch import Scratch

MAX_EXAMPLES = 5


class StepOptions(BaseModel):
    """A step's options, as written under the step in the pipeline YAML."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Verdict:
    """What a record step did to one record.

    `changed` says whether anything in the record changed (content, fields or flags; use
    `set_flag`, which reports it), `flags` names the flags the record carries from this step.
    """

    changed: bool = False
    reject: str | None = None
    review: str | None = None
    flags: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)
    tally: tuple[str, ...] = ()  # keys counted over the run (e.g. answer position by source)


@dataclass
class Decision:
    """What a corpus step decided for one record: flags to merge, maybe a rejection."""

    flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    reject: str | None = None
    review: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepStats:
    """Counts, time and examples of one step over a run; merged across batches and workers."""

    name: str
    seen: int = 0
    changed: int = 0
    dropped: int = 0
    review: int = 0
    flagged: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tallies: Counter[str] = field(default_factory=Counter)

    def note(self, record_id: str, key: str, detail: dict[str, Any]) -> None:
        bucket = self.examples.setdefault(key, [])
        if len(bucket) < MAX_EXAMPLES:
            bucket.append({"id": record_id, **detail})

    def count(self, record_id: str, verdict: Verdict | Decision, changed: bool) -> None:
        self.seen += 1
        flags = tuple(verdict.flags)
        if changed:
            self.changed += 1
        if verdict.reject:
            self.dropped += 1
            self.reasons[verdict.reject] += 1
            self.note(record_id, verdict.reject, verdict.detail)
        elif verdict.review:
            self.review += 1
            self.reasons[verdict.review] += 1
            self.note(record_id, verdict.review, verdict.detail)
        if isinstance(verdict, Verdict):
            self.tallies.update(verdict.tally)
        if flags:
            self.flagged += 1
            for name in flags:
                self.flags[name] += 1
                self.note(record_id, f"flag:{name}", verdict.detail)

    def merge(self, other: StepStats) -> None:
        self.seen += other.seen
        self.changed += other.changed
        self.dropped += other.dropped
        self.review += other.review
        self.flagged += other.flagged
        self.seconds += other.seconds
        self.reasons.update(other.reasons)
        self.flags.update(other.flags)
        self.tallies.update(other.tallies)
        for key, items in other.examples.items():
            bucket = self.examples.setdefault(key, [])
            bucket.extend(items[: MAX_EXAMPLES - len(bucket)])

    @property
    def kept(self) -> int:
        return self.seen - self.dropped

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seen": self.seen,
            "kept": self.kept,
            "changed": self.changed,
            "dropped": self.dropped,
            "review": self.review,
            "flagged": self.flagged,
            "seconds": round(self.seconds, 4),
            "reasons": dict(self.reasons),
            "flags": dict(self.flags),
            "examples": self.examples,
            "tallies": dict(self.tallies),
        }


class Step:
    """Base of every step. Subclasses set `name` (and `Options`) and write one hook."""

    name: ClassVar[str] = ""
    Options: ClassVar[type[StepOptions]] = StepOptions
    corpus: ClassVar[bool] = False

    def __init__(self, options: StepOptions | None = None) -> None:
        self.options = options if options is not None else self.Options()
        self.state: Any = None

    def prepare(self, session: Session) -> Any:
        """In the driver, before the pass: what every worker's copy needs (e.g. an index)."""
        return None

    def attach(self, state: Any) -> None:
        """In each worker: take what `prepare` produced."""
        self.state = state

    def process(self, record: Record) -> Verdict:
        raise NotImplementedError

    def run(self, record: Record, stats: StepStats, run_id: str) -> Verdict:
        """Process one record, counting, timing and writing the change into its lineage."""
        started = time.perf_counter()
        verdict = self.process(record)
        stats.seconds += time.perf_counter() - started
        changed = verdict.changed
        if changed:
            record.lineage.steps.append(
                LineageStep(type="step", name=self.name, detail={"run": run_id, **verdict.detail})
            )
        stats.count(record.id, verdict, changed)
        return verdict


Loader = Callable[[Sequence[str]], dict[str, Record]]


class Collector:
    """Holds one corpus step's summaries over a pass until the step decides.

    This one keeps them in a list, for `decide`; a step whose summaries are many and regular
    (dedup: one per record) keeps them compactly, on disk, in its own collector.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []

    def add(self, part: list[tuple[str, Any]]) -> None:
        self.items.extend(part)

    def decide(self, step: CorpusStep, dead: Collection[str]) -> dict[str, Decision]:
        """The step's decisions over the summaries of records not in `dead` (rejected
        earlier in the pass)."""
        return step.decide([p for rid, p in self.items if rid not in dead])

    def close(self) -> None:
        self.items = []


class CorpusStep(Step):
    """A step that decides from the whole selection (dedup, contamination)."""

    corpus: ClassVar[bool] = True
    # Set by the driver before `decide`: reads records from the store by id, for a step that
    # must look again at a few of them (near dedup measuring its borderline pairs).
    load: Loader | None = None

    def summarize(self, records: Sequence[Record]) -> list[tuple[str, Any]]:
        """Small, picklable `(record id, summary)` pairs, computed in the workers."""
        raise NotImplementedError

    def collector(self, scratch: Scratch) -> Collector:
        """Where the driver keeps this step's summaries until `decide` (`scratch`: the run's
        temporary files)."""
        return Collector()

    def decide(self, summaries: list[Any]) -> dict[str, Decision]:
        """Decisions by record id, from the summaries of the whole selection (records
        rejected earlier in the pass left out)."""
        raise NotImplementedError


def set_flag(record: Record, name: str, value: dict[str, Any]) -> bool:
    """Set a quality flag; True when that changed the record (so a rerun changes nothing)."""
    if record.quality.flags.get(name) == value:
        return False
    record.quality.flags[name] = value
    return True


def drop_flag(record: Record, name: str) -> bool:
    return record.quality.flags.pop(name, None) is not None


_STEPS: dict[str, type[Step]] = {}


def register_step(cls: type[Step]) -> type[Step]:
    """Class decorator: make a step available to pipelines under its `name`."""
    _STEPS[cls.name] = cls
    return cls


def step_class(name: str) -> type[Step]:
    try:
        return _STEPS[name]
    except KeyError:
        known = ", ".join(sorted(_STEPS))
        raise QianmoError(f"unknown step {name!r} (one of: {known})", field="steps") from None


def step_names() -> list[str]:
    return sorted(_STEPS)
