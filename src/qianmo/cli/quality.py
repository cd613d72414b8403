"""`qianmo quality run|report|steps`: the quality pipeline as a job, and its report."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qianmo.cli._common import actor, console, print_json, safe, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.errors import QianmoError
from qianmo.quality import (
    RunOptions,
    default_pipeline,
    load_pipeline,
    pipeline_of_steps,
    render_html,
    run_report,
    step_names,
)
from qianmo.store import Database, enqueue, get_job, run_job_inline

quality_app = typer.Typer(
    help="Check and clean records: the quality pipeline.", no_args_is_help=True
)


def _options(
    pipeline: Path | None,
    steps: str | None,
    executor: str,
    address: str | None,
    where: list[str],
    workers: int | None,
) -> RunOptions:
    if pipeline is not None and steps:
        raise QianmoError("give --pipeline or --steps, not both", field="--steps")
    if pipeline is not None:
        spec = load_pipeline(pipeline)
    elif steps:
        spec = pipeline_of_steps([s.strip() for s in steps.split(",") if s.strip()])
    else:
        spec = default_pipeline()
    if executor not in ("local", "ray"):
        raise QianmoError(f"unknown executor {executor!r} (local or ray)", field="--executor")
    return RunOptions(
        pipeline=spec, selection=list(where), executor=executor, address=address, workers=workers
    )


def run_with_progress(db: Database, options: RunOptions, *, show: bool) -> dict[str, Any]:
    """Enqueue the run as a job and run it here, with a progress bar fed from the job row."""
    with db.write() as s:
        job_id = enqueue(s, "quality", _params(options), actor=actor())
    stop = threading.Event()
    thread = None
    if show:
        thread = threading.Thread(target=_watch, args=(db, job_id, stop), daemon=True)
        thread.start()
    try:
        job = run_job_inline(db, job_id)
    finally:
        stop.set()
        if thread is not None:
            thread.join()
    if job.status != "done":
        raise QianmoError(f"quality run failed: {job.error or job.status}", object_id=job_id)
    return dict(job.result or {})


def _params(options: RunOptions) -> dict[str, Any]:
    return options.to_json()


def _watch(db: Database, job_id: str, stop: threading.Event) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("quality", total=None)
        while not stop.wait(0.3):
            with db.read() as s:
                job = get_job(s, job_id)
                bar.update(
                    task,
                    completed=job.done,
                    total=job.total,
                    description=safe(job.message or "quality"),
                )


@quality_app.command("run")
def run(
    pipeline: Path | None = typer.Option(None, "--pipeline", help="A pipeline YAML file."),
    steps: str | None = typer.Option(None, "--steps", help="Steps a,b,c with default options."),
    executor: str = typer.Option("local", "--executor", help="local or ray."),
    address: str | None = typer.Option(None, "--address", help="Ray address (ray://…)."),
    where: list[str] = typer.Option([], "--filter", help="KEY=VALUE: which records to check."),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run a pipeline over the records (as a job; resumable)."""
    options = _options(pipeline, steps, executor, address, where, workers)
    db = workspace()
    result = run_with_progress(db, options, show=not as_json)
    if as_json:
        print_json(result)
        return
    with db.read() as s:
        report = run_report(s, result["run"])
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    summary = report.get("summary") or {}
    table = Table(
        title=f"quality run {safe(report['run'])} · {safe(report['pipeline'].get('name'))}"
    )
    for col in ("step", "seen", "kept", "changed", "dropped", "review", "flagged", "seconds"):
        table.add_column(col, justify="left" if col == "step" else "right")
    for s in report.get("steps") or []:
        table.add_row(
            safe(s["name"]),
            *(str(s[k]) for k in ("seen", "kept", "changed", "dropped", "review", "flagged")),
            f"{s['seconds']:.2f}",
        )
    console.print(table)
    console.print(
        f"{summary.get('records', 0)} records: {summary.get('accepted', 0)} accepted, "
        f"{summary.get('needs_review', 0)} need review, {summary.get('rejected', 0)} rejected "
        f"· {summary.get('versions', 0)} new versions · {summary.get('docs_per_s')} docs/s"
    )
    for reason, n in (summary.get("rejected_by_reason") or {}).items():
        console.print(f"  rejected {safe(reason)}: {n}")
    for source, flags in (summary.get("source_flags") or {}).items():
        console.print(f"  source {safe(source)}: {safe(flags)}")


@quality_app.command("report")
def report(
    run_id: str | None = typer.Argument(None, metavar="[RUN]", help="Default: the latest run."),
    html: Path | None = typer.Option(None, "--html", help="Where to write the HTML page."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A run's counts per step, rejections and examples; also written as an HTML page."""
    with workspace().read() as s:
        data = run_report(s, run_id)
    out = html or Path(f"quality-{data['run']}.html")
    try:
        out.write_text(render_html(data), encoding="utf-8")
    except OSError as e:
        raise QianmoError(f"cannot write the report: {e.strerror}", file=str(out)) from e
    if as_json:
        print_json({**data, "html": str(out)})
        return
    print_report(data)
    console.print(f"HTML report: {safe(out)}")


@quality_app.command("steps")
def steps_() -> None:
    """The steps a pipeline may use."""
    for name in step_names():
        console.print(name)


def demo_step(ctx: DemoContext) -> None:
    """Run the default pipeline on the demo corpus and print the report's summary."""
    options = RunOptions(pipeline=default_pipeline(), workers=1)
    result = run_with_progress(ctx.db, options, show=False)
    with ctx.db.read() as s:
        data = run_report(s, result["run"])
    ctx.console.print("[bold]quality[/bold] · default pipeline on the demo corpus")
    print_report(data)
    ctx.state["quality_run"] = result["run"]


def register(app: typer.Typer) -> None:
    app.add_typer(quality_app, name="quality")
