"""The bounded async batch runner: N calls in flight, progress, results saved as they come.

Resume is the caller's list of keys already done (e.g. responses already stored), plus the
response cache: after a crash, whatever was answered is neither asked nor stored twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

from qianmo.llm._sync import run_sync
from qianmo.llm._types import Completion, LlmError

P = TypeVar("P")
R = TypeVar("R")


@dataclass
class BatchStats:
    """Counts of a batch so far; `progress` callbacks receive this."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    errors: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    elapsed_s: float = 0.0
    started: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def items_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("started")
        out["items_per_s"] = round(self.items_per_s, 2)
        return out

    def count(self, value: object) -> None:
        completion = value if isinstance(value, Completion) else getattr(value, "completion", None)
        if isinstance(completion, Completion):
            self.prompt_tokens += completion.prompt_tokens
            self.completion_tokens += completion.completion_tokens
            self.cached += completion.cached


@dataclass(frozen=True)
class ItemResult(Generic[R]):
    """One item's outcome: its value, or the error that ended it (counted, not raised)."""

    key: str
    value: R | None
    error: str | None = None


async def run_batch(
    items: Iterable[tuple[str, P]],
    fn: Callable[[P], Awaitable[R]],
    *,
    concurrency: int = 16,
    done: Collection[str] = (),
    on_results: Callable[[list[ItemResult[R]]], None] | None = None,
    flush_every: int = 64,
    progress: Callable[[BatchStats], None] | None = None,
    progress_every_s: float = 0.5,
    errors: tuple[type[Exception], ...] = (LlmError,),
) -> BatchStats:
    """Run `fn` on each `(key, payload)` with at most `concurrency` in flight.

    Keys in `done` are skipped. Results reach `on_results` in batches of `flush_every` and
    once more at the end — also when the batch is interrupted, so completed work is kept.
    `on_results` runs in one writer thread, in order, so storing a batch never stalls the
    requests in flight; a failure there stops the batch at the next flush.
    Exceptions of the types in `errors` become failed items; any other stops the batch.
    """
    todo = list(items)
    stats = BatchStats(total=len(todo))
    source: Iterator[tuple[str, P]] = iter(todo)
    buffer: list[ItemResult[R]] = []
    last_progress = 0.0
    # Storing 64 results took 10-40 ms of the event loop (SQLite, machine loaded); in the
    # writer thread the database's C code runs beside the loop instead of stopping it.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-writer")
    writes: list[Future[None]] = []

    def flush() -> None:
        for w in writes:
            if w.done() and w.exception() is not None:
                raise w.exception()  # type: ignore[misc]
        if buffer and on_results is not None:
            writes.append(writer.submit(on_results, list(buffer)))
        buffer.clear()

    async def worker() -> None:
        nonlocal last_progress
        for key, payload in source:  # a shared iterator: each item goes to one worker
            if key in done:
                stats.skipped += 1
                continue
            try:
                value = await fn(payload)
                buffer.append(ItemResult(key, value))
                stats.count(value)
            except errors as e:
                buffer.append(ItemResult(key, None, str(e)))
                stats.errors += 1
            stats.done += 1
            if len(buffer) >= flush_every:
                flush()
            now = time.perf_counter()
            stats.elapsed_s = now - stats.started
            if progress is not None and now - last_progress >= progress_every_s:
                last_progress = now
                progress(stats)

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            flush()
        finally:
            writer.shutdown(wait=True)  # every batch is stored before the runner returns
        for w in writes:
            w.result()  # a failed store raises here
        stats.elapsed_s = time.perf_counter() - stats.started
        if progress is not None:
            progress(stats)
    return stats


def run_batch_sync(
    items: Iterable[tuple[str, P]], fn: Callable[[P], Awaitable[R]], **kwargs: Any
) -> BatchStats:
    """`run_batch` from synchronous code (the CLI, jobs)."""
    return run_sync(run_batch(items, fn, **kwargs))
