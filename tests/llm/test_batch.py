"""The batch runner: bounded concurrency, progress, errors counted, interrupt and resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from qianmo.llm import (
    BatchStats,
    Completion,
    ItemResult,
    LlmError,
    OpenAIBackend,
    ResponseCache,
    model_config,
    run_batch,
    run_batch_sync,
)
from qianmo.store import Database
from tests.helpers.openai_server import OpenAIServer, Reply, last_user_text


def numbered(body: dict[str, Any]) -> Reply | str:
    text = last_user_text(body)
    if text == "q13":
        return Reply("refused", status=400)
    return f"a{text[1:]}"


def test_bounded_concurrency_progress_tokens_and_errors() -> None:
    seen: list[BatchStats] = []
    saved: list[ItemResult[Completion]] = []
    with OpenAIServer(numbered, latency=0.02) as server:
        cfg = model_config("m", base_url=server.url)

        async def go() -> BatchStats:
            async with OpenAIBackend(cfg) as backend:
                items = [(f"k{i}", [{"role": "user", "content": f"q{i}"}]) for i in range(40)]
                return await run_batch(
                    items,
                    backend.complete,
                    concurrency=8,
                    on_results=saved.extend,
                    flush_every=5,
                    progress=seen.append,
                    progress_every_s=0,
                )

        stats = asyncio.run(go())
    assert server.max_in_flight <= 8
    assert (stats.total, stats.done, stats.errors) == (40, 40, 1)
    assert stats.completion_tokens == 39 and stats.items_per_s > 0
    by_key = {r.key: r for r in saved}
    assert len(by_key) == 40 and by_key["k7"].value is not None
    assert by_key["k7"].value.text == "a7"
    assert by_key["k13"].value is None and "refused" in (by_key["k13"].error or "")
    assert seen[-1].done == 40


def test_interrupted_batch_keeps_finished_work_and_resumes(db: Database) -> None:
    stored: dict[str, str] = {}

    def keep(results: list[ItemResult[Completion]]) -> None:
        stored.update({r.key: r.value.text for r in results if r.value is not None})

    with OpenAIServer(numbered) as server:
        cfg = model_config("m", base_url=server.url)
        items = [(f"k{i}", [{"role": "user", "content": f"q{i}"}]) for i in range(30) if i != 13]

        async def crash_after(n: int) -> None:
            async with OpenAIBackend(cfg, cache=ResponseCache(db, flush_every=4)) as backend:
                calls = 0

                async def fn(messages: Any) -> Completion:
                    nonlocal calls
                    calls += 1
                    if calls > n:
                        raise KeyboardInterrupt  # the operator pressed Ctrl-C
                    return await backend.complete(messages)

                await run_batch(items, fn, concurrency=1, on_results=keep, flush_every=100)

        with pytest.raises(KeyboardInterrupt):
            asyncio.run(crash_after(10))
        assert len(stored) == 10 and len(server.requests) == 10

        async def resume() -> BatchStats:
            async with OpenAIBackend(cfg, cache=ResponseCache(db)) as backend:
                return await run_batch(
                    items, backend.complete, concurrency=4, done=set(stored), on_results=keep
                )

        stats = asyncio.run(resume())
    assert stats.skipped == 10 and stats.done == 19
    assert len(stored) == 29 and len(server.requests) == 29  # nothing asked twice


def test_sync_wrapper_and_custom_error_types() -> None:
    async def fn(x: int) -> int:
        if x == 2:
            raise LlmError("no")
        return x * x

    got: list[ItemResult[int]] = []
    stats = run_batch_sync([(str(i), i) for i in range(4)], fn, on_results=got.extend)
    assert stats.errors == 1 and sorted(r.value or 0 for r in got) == [0, 0, 1, 9]

    async def bug(x: int) -> int:
        raise ValueError("a bug is not an item error")

    with pytest.raises(ValueError):
        run_batch_sync([("a", 1)], bug)
