"""`qianmo worker` runs queued jobs; `qianmo jobs list|show|cancel` watches them."""

from __future__ import annotations

import importlib
import importlib.util

import typer
from rich.table import Table

from qianmo.cli._common import actor, console, print_json, safe, settings, workspace
from qianmo.store import JobRow, Worker, get_job, list_jobs, registered_kinds, request_cancel

jobs_app = typer.Typer(help="Long-running work: imports, quality runs, releases, evaluations.")

# Packages whose import registers job handlers; a missing one just has no handlers.
HANDLER_PACKAGES = [
    "qianmo.ingest",
    "qianmo.quality",
    "qianmo.annotate",
    "qianmo.circulate",
    "qianmo.evaluate",
    "qianmo.arena",
]


def load_handlers() -> list[str]:
    for name in HANDLER_PACKAGES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return registered_kinds()


def worker(
    once: bool = typer.Option(False, "--once", help="Run the queued jobs, then stop."),
    poll: float = typer.Option(1.0, "--poll", help="Seconds between looks at an empty queue."),
) -> None:
    """Claim and run queued jobs until stopped (Ctrl-C); several may run on PostgreSQL."""
    kinds = load_handlers()
    cfg = settings()
    w = Worker(
        workspace(),
        heartbeat_s=cfg.job_heartbeat_seconds,
        stale_after_s=cfg.job_stale_after_seconds,
    )
    console.print(f"worker {safe(w.worker_id)} handling: {safe(', '.join(kinds) or 'nothing')}")
    if once:
        while w.run_one():
            pass
        return
    w.run(poll_s=poll)


def _job_dict(row: JobRow) -> dict[str, object]:
    fields = ("id", "kind", "status", "done", "total", "message", "attempts", "actor", "error")
    out = {f: getattr(row, f) for f in fields}
    out["created_at"] = str(row.created_at)
    out["result"] = row.result
    return out


@jobs_app.command("list")
def list_(
    status: str | None = typer.Option(None, "--status"),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recent jobs, newest first."""
    with workspace().read() as s:
        rows = [_job_dict(r) for r in list_jobs(s, limit=limit, status=status)]
    if as_json:
        print_json(rows)
        return
    table = Table()
    for col in ("id", "kind", "status", "progress", "message"):
        table.add_column(col)
    for r in rows:
        progress = f"{r['done']}/{r['total']}" if r["total"] else str(r["done"])
        table.add_row(str(r["id"]), str(r["kind"]), str(r["status"]), progress, safe(r["message"]))
    console.print(table)


@jobs_app.command("show")
def show(job_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """One job with its result or error."""
    with workspace().read() as s:
        row = _job_dict(get_job(s, job_id))
    if as_json:
        print_json(row)
    else:
        for k, v in row.items():
            console.print(f"[bold]{k}[/bold]: {safe(v)}")


@jobs_app.command("cancel")
def cancel(job_id: str) -> None:
    """Cancel a queued job, or ask a running one to stop at its next progress report."""
    with workspace().write() as s:
        row = request_cancel(s, job_id, actor=actor())
        console.print(
            f"{job_id}: {row.status}{' (stop requested)' if row.cancel_requested else ''}"
        )


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.add_typer(jobs_app, name="jobs")
