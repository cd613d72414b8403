"""The progress bar of model batches (eval runs, arena campaigns): items/s, errors, tokens."""

from __future__ import annotations

from collections.abc import Callable

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from qianmo.cli._common import err_console
from qianmo.llm import BatchStats


def progress_bar(what: str = "items") -> tuple[Progress, Callable[[BatchStats], None]]:
    """A transient bar on stderr, and the `progress` callback that feeds it."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn(
            "{task.completed}/{task.total} · {task.fields[rate]:.1f} " + what + "/s · "
            "{task.fields[errors]} errors · {task.fields[tokens]} tokens"
        ),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        refresh_per_second=4,  # the bar redraws in its own thread; 4/s is smooth and cheap
    )
    task = bar.add_task("asking", total=None, rate=0.0, errors=0, tokens=0)

    def update(stats: BatchStats) -> None:
        bar.update(
            task,
            total=stats.total,
            completed=stats.done + stats.skipped,
            rate=stats.items_per_s,
            errors=stats.errors,
            tokens=stats.prompt_tokens + stats.completion_tokens,
        )

    return bar, update
