"""`qianmo serve`: the web platform, with an in-process job worker by default."""

from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Any

import typer
import uvicorn

from qianmo.cli._common import console, safe, settings, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.cli._listeners import (
    OwnListenerProcesses,
    balanced_listeners_supported,
    listeners,
)
from qianmo.cli.jobs import load_handlers
from qianmo.settings import Settings
from qianmo.store import Database
from qianmo.web import JobWorkerThread, create_app, ready_to_serve

# One server process per core: a process answers on one core at a time (the GIL), and at
# 100 requests/s one process was CPU-bound (bench/web_load.py, docs/web.md).
DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 4))
# Nothing below warnings is shown; with the access log on, each request still formatted its
# line's arguments before the logger dropped it.
QUIET: dict[str, Any] = {"log_level": "warning", "access_log": False}


def run_server(
    cfg: Settings, db: Database, *, host: str, port: int, run_worker: bool, workers: int = 1
) -> None:
    kinds = load_handlers() if run_worker else []
    jobs = (
        f"jobs run here ({', '.join(kinds) or 'none'})" if run_worker else "jobs: `qianmo worker`"
    )
    console.print(
        f"qianmo at [bold]http://{safe(host)}:{port}/[/bold] · {safe(jobs)} · "
        f"{workers} server process(es)"
    )
    if workers <= 1:
        app = ready_to_serve(create_app(cfg, db=db, run_worker=run_worker))
        uvicorn.run(app, host=host, port=port, **QUIET)
        return
    # Each server process builds its app from the environment (the same settings); the one
    # job thread stays in this parent process, which supervises them.
    with JobWorkerThread(db, cfg) if run_worker else nullcontext():
        if not balanced_listeners_supported():
            uvicorn.run(
                "qianmo.web:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                **QUIET,
            )
            return
        # A listening socket per process, so connections spread evenly (cli/_listeners.py).
        config = uvicorn.Config(
            "qianmo.web:app_from_environment", factory=True, workers=workers, **QUIET
        )
        OwnListenerProcesses(config, listeners(host, port, workers)).run()


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Leave queued jobs to `qianmo worker` processes."
    ),
    workers: int = typer.Option(
        DEFAULT_WORKERS, "--workers", min=1, help="Server processes (default: one per core, ≤ 4)."
    ),
) -> None:
    """Serve the web platform and its JSON API (/api/v1, OpenAPI at /api/v1/docs)."""
    run_server(
        settings(), workspace(), host=host, port=port, run_worker=not no_worker, workers=workers
    )


def demo_step(ctx: DemoContext) -> None:
    """Serve the demo workspace, printing the address and the demo admin's credentials."""
    if not ctx.serve:
        return
    user = ctx.state.get("admin_user", "admin")
    password = ctx.state.get("admin_password", "(see `qianmo users passwd admin`)")
    ctx.console.print(
        f"sign in as [bold]{safe(user)}[/bold] with password [bold]{safe(password)}[/bold]"
    )
    run_server(ctx.settings, ctx.db, host="127.0.0.1", port=8000, run_worker=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
