"""A bounded concurrent runner: N workers drain a queue, results are handed back in batches.

Kept small on purpose; the shared batch runner in `qianmo.llm` replaces it once it lands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def run_bounded(
    items: Sequence[T],
    work: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
    on_batch: Callable[[list[R]], None],
    batch_size: int = 100,
) -> int:
    """Run `work` over `items`, at most `concurrency` at once; `on_batch` gets finished results
    (in completion order) every `batch_size` and at the end. Returns how many ran."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    done: list[R] = []
    count = 0

    async def worker() -> None:
        nonlocal count
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            done.append(await work(item))
            count += 1
            if len(done) >= batch_size:
                batch = done[:]
                done.clear()
                on_batch(batch)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(items))))))
    if done:
        on_batch(done)
    return count
