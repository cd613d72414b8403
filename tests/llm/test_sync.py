"""Synchronous callers get their coroutine run, even from inside a running event loop."""

from __future__ import annotations

import asyncio
import threading

from qianmo.llm import run_sync


async def _where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_from_plain_code_it_runs_in_this_thread() -> None:
    assert run_sync(_where()) == threading.current_thread().name


def test_from_inside_a_running_loop_it_runs_in_a_thread_of_its_own() -> None:
    # What a notebook or Playwright's synchronous API looks like to the code they call.
    async def caller() -> str:
        return run_sync(_where())

    assert asyncio.run(caller()).startswith("qianmo-run-sync")
