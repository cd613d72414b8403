"""Running a coroutine to completion from synchronous code, whoever called it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, also when this thread already runs an event loop.

    A caller inside a running loop (a Jupyter notebook, a test runner driving a browser through
    Playwright's synchronous API) cannot start a second loop in its thread; the coroutine then
    gets a fresh loop in a thread of its own, and the caller waits for its result.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qianmo-run-sync") as pool:
        return pool.submit(asyncio.run, coro).result()
