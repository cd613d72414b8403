"""Executors: `local` (all cores of this machine) and `ray` (a Ray cluster, via Ray Data).

Both run `process_page` on pages of records and hand results back in page order; the
driver does every database write and every corpus-wide decision (global LSH banding), so
the executors cannot disagree on what is kept or how records cluster.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

from qianmo.errors import QianmoError
from qianmo.quality._work import PageResult, Work, process_page

Page = list[str]  # record documents as JSON text


class Executor(Protocol):
    name: str

    def map_pages(self, work: Work, pages: Iterable[Page]) -> Iterator[PageResult]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Pages go to a pool of processes (one per core); one worker runs in-process."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: no fork of a process holding database connections and threads
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["qianmo.quality"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    def map_pages(self, work: Work, pages: Iterable[Page]) -> Iterator[PageResult]:
        pages = iter(pages)
        # a selection of a page or two is done before worker processes would have started
        head = list(itertools.islice(pages, 2))
        if self.workers <= 1 or len(head) < 2:
            for page in itertools.chain(head, pages):
                yield process_page(work, page)
            return
        pool = self._get_pool()
        window: deque[Future[PageResult]] = deque()
        for page in itertools.chain(head, pages):
            window.append(pool.submit(process_page, work, page))
            if len(window) >= 2 * self.workers:  # bounded: memory stays flat
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class RayExecutor:
    """The same pages as a Ray Data dataset per group of pages, mapped on the cluster."""

    name = "ray"
    GROUP = 8  # pages per dataset: enough tasks to fill a cluster, bounded memory

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError as e:
            raise QianmoError(
                "the ray executor needs Ray: pip install 'qianmo[ray]'", field="--executor"
            ) from e
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # Ray Data logs every dataset's plan at INFO; the run has its own progress bar
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if address is None:
                kwargs["num_cpus"] = workers or os.cpu_count() or 1
            ray.init(address=address, **kwargs)
            self._started = True
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        ray.data.DataContext.get_current().enable_progress_bars = False

    def map_pages(self, work: Work, pages: Iterable[Page]) -> Iterator[PageResult]:
        group: list[Page] = []
        for page in pages:
            group.append(page)
            if len(group) >= self.GROUP:
                yield from self._run(work, group)
                group = []
        if group:
            yield from self._run(work, group)

    def _run(self, work: Work, group: list[Page]) -> Iterator[PageResult]:
        rows = [{"n": i, "page": pickle.dumps(p)} for i, p in enumerate(group)]
        ds = self._ray.data.from_items(rows).map(
            _ray_page,  # type: ignore[arg-type]  # extra arguments arrive as fn_kwargs
            fn_kwargs={"work": work},
        )
        done = sorted(ds.take_all(), key=lambda r: r["n"])
        for row in done:
            yield pickle.loads(row["result"])

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def _ray_page(row: dict[str, Any], work: Work) -> dict[str, Any]:
    result = process_page(work, pickle.loads(row["page"]))
    return {"n": row["n"], "result": pickle.dumps(result)}


def make_executor(name: str, *, address: str | None = None, workers: int | None = None) -> Executor:
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address, workers)
    raise QianmoError(f"unknown executor {name!r} (local or ray)", field="--executor")
