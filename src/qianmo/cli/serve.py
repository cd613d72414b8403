"""`qianmo serve`: the web platform, with an in-process job worker by default."""

from __future__ import annotations

import typer
import uvicorn

from qianmo.cli._common import console, safe, settings, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.cli.jobs import load_handlers
from qianmo.settings import Settings
from qianmo.store import Database
from qianmo.web import create_app


def run_server(cfg: Settings, db: Database, *, host: str, port: int, run_worker: bool) -> None:
    kinds = load_handlers() if run_worker else []
    app = create_app(cfg, db=db, run_worker=run_worker)
    jobs = (
        f"jobs run here ({', '.join(kinds) or 'none'})" if run_worker else "jobs: `qianmo worker`"
    )
    console.print(f"qianmo at [bold]http://{safe(host)}:{port}/[/bold] · {safe(jobs)}")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Leave queued jobs to `qianmo worker` processes."
    ),
) -> None:
    """Serve the web platform and its JSON API (/api/v1, OpenAPI at /api/v1/docs)."""
    run_server(settings(), workspace(), host=host, port=port, run_worker=not no_worker)


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
