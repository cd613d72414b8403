"""`qianmo eval suite create|suites|run|rescore|report|leaderboard`: the capability benchmark."""

from __future__ import annotations

import os
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from qianmo.cli._batchbar import progress_bar
from qianmo.cli._common import actor, console, print_json, safe, settings, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.evaluate import (
    RunConfig,
    create_suite,
    eval_params,
    finish_run,
    get_suite,
    leaderboard,
    list_suites,
    rescore,
    run_eval,
    scorer_names,
)
from qianmo.llm import model_config
from qianmo.store import Database, RecordFilter

eval_app = typer.Typer(
    help="Measure models on frozen suites of accepted items.", no_args_is_help=True
)
suite_app = typer.Typer(help="Create suites.", no_args_is_help=True)
eval_app.add_typer(suite_app, name="suite")

DEMO_URL_ENV = "QIANMO_DEMO_MODEL_URL"
DEMO_MODEL_ENV = "QIANMO_DEMO_MODEL"
DEMO_MODEL = "qwen2.5:0.5b"


@suite_app.command("create")
def suite_create(
    name: str = typer.Argument(..., help="Suite name; creating it again makes a new version."),
    filters: list[str] = typer.Option([], "--filter", "-f", help="KEY=VALUE over records."),
    limit: int | None = typer.Option(None, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Freeze the accepted MCQ and QA records the filters select as a new suite version."""
    info = create_suite(workspace(), name, RecordFilter.parse(filters), limit=limit, actor=actor())
    if as_json:
        print_json(info.as_dict())
        return
    console.print(f"suite {safe(info.name)} v{info.version}: {info.items} items ({info.id})")


@eval_app.command("suites")
def suites(as_json: bool = typer.Option(False, "--json")) -> None:
    """List suites and their versions."""
    rows = list_suites(workspace())
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("name", "version", "items", "filters", "created"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            safe(r.name),
            str(r.version),
            str(r.items),
            safe(" ".join(r.filters)),
            f"{r.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


def _print_summary(summary: dict[str, Any], out: Console = console) -> None:
    lo, hi = summary["ci95"]
    out.print(
        f"[bold]{safe(summary['model'])}[/bold] · accuracy {summary['accuracy']:.1%} "
        f"(95% CI {lo:.1%}–{hi:.1%}) on {summary['n']} items · {summary['invalid']} invalid · "
        f"{summary['errors']} errors · run {summary['run']}"
    )
    table = Table(box=box.SIMPLE_HEAD, title="breakdown")
    for col in ("by", "group", "n", "accuracy", "95% CI"):
        table.add_column(col)
    for by in ("domain", "kind", "lang"):
        for group, g in summary[f"by_{by}"].items():
            table.add_row(
                by,
                safe(group),
                str(g["n"]),
                f"{g['accuracy']:.1%}",
                f"{g['ci95'][0]:.1%}–{g['ci95'][1]:.1%}",
            )
    for part in ("before", "after", "unknown"):
        g = summary.get("timeliness", {}).get(part)
        if g and g["n"]:
            table.add_row(
                f"published {part} {summary['timeliness']['cutoff']}"
                if part != "unknown"
                else "date unknown",
                "",
                str(g["n"]),
                f"{g['accuracy']:.1%}",
                f"{g['ci95'][0]:.1%}–{g['ci95'][1]:.1%}",
            )
    out.print(table)
    if summary["contaminated"]["n"]:
        excluded = (
            "excluded"
            if summary["contaminated"]["excluded"]
            else "included (--exclude-contaminated)"
        )
        out.print(f"contaminated items: {summary['contaminated']['n']}, {excluded}")


def evaluate(
    db: Database,
    suite: str,
    model: str,
    *,
    overrides: dict[str, Any],
    config: RunConfig,
    concurrency: int,
    cache: bool = True,
    cutoff: str | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """What `eval run` does, reusable by the demo: resolve, then run as a job in this process."""
    info = get_suite(db, suite)
    cfg = model_config(model, settings(), **overrides)
    cfg.api_key()  # an unset key variable is a one-line error before anything is queued
    params = eval_params(info, cfg, config, concurrency=concurrency, cache=cache, cutoff=cutoff)
    if not show_progress:
        return run_eval(db, params, actor=actor())
    bar, update = progress_bar()
    with bar:
        return run_eval(db, params, actor=actor(), progress=update)


@eval_app.command("run")
def run(
    suite: str = typer.Option(..., "--suite", help="NAME (latest version), NAME@VERSION or id."),
    model: str = typer.Option(..., "--model", help="A model in qianmo.toml, or the id to send."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Variable holding the key."),
    concurrency: int = typer.Option(16, "--concurrency", min=1),
    temperature: float | None = typer.Option(None, "--temperature"),
    max_tokens: int | None = typer.Option(None, "--max-tokens"),
    seed: int | None = typer.Option(None, "--seed"),
    rpm: float | None = typer.Option(None, "--rpm", help="Requests per minute."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="chat (default) or completion."),
    template: str = typer.Option("default", "--template", help="Bundled name or YAML file."),
    shots: int = typer.Option(0, "--shots", min=0, help="k-shot examples from outside the suite."),
    circular: bool = typer.Option(False, "--circular", help="Ask every option rotation."),
    reask: bool = typer.Option(False, "--reask", help="Re-ask once when no answer is found."),
    system: str | None = typer.Option(None, "--system", help="System prompt."),
    scorer: str | None = typer.Option(
        None, "--scorer", help=f"One of {', '.join(scorer_names())}."
    ),
    cutoff: str | None = typer.Option(None, "--cutoff", help="Timeliness split date (YYYY-MM-DD)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ask even when a response is cached."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask a model every suite item; store, extract, score, summarise. Resumes unfinished runs."""
    overrides = {
        "base_url": base_url,
        "api_key_env": api_key_env,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "seed": seed,
        "rpm": rpm,
        "endpoint": endpoint,
    }
    config = RunConfig(
        template=template, shots=shots, circular=circular, reask=reask, system=system, scorer=scorer
    )
    summary = evaluate(
        workspace(),
        suite,
        model,
        overrides=overrides,
        config=config,
        concurrency=concurrency,
        cache=not no_cache,
        cutoff=cutoff,
        show_progress=not as_json,
    )
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)


@eval_app.command("rescore")
def rescore_(
    run_id: str = typer.Argument(..., metavar="RUN"),
    scorer: str = typer.Option(..., "--scorer", help=f"One of {', '.join(scorer_names())}."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-extract and re-score a run's stored responses; no model is called."""
    summary = rescore(workspace(), run_id, scorer, actor=actor())
    print_json(summary) if as_json else _print_summary(summary)


@eval_app.command("report")
def report(
    run_id: str = typer.Argument(..., metavar="RUN"),
    cutoff: str | None = typer.Option(None, "--cutoff", help="Timeliness split date (YYYY-MM-DD)."),
    exclude_contaminated: bool = typer.Option(False, "--exclude-contaminated"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A run's report: breakdowns with 95% intervals, timeliness split, contamination."""
    summary = finish_run(
        workspace(), run_id, actor=actor(), cutoff=cutoff, exclude_contaminated=exclude_contaminated
    )
    print_json(summary) if as_json else _print_summary(summary)


@eval_app.command("leaderboard")
def leaderboard_(
    suite: str | None = typer.Option(None, "--suite"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Models compared on the same suite version (each model's latest finished run)."""
    rows = leaderboard(workspace(), suite)
    if as_json:
        print_json(rows)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("suite", "version", "model", "accuracy", "95% CI", "n", "invalid", "run"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            safe(r["suite"]),
            str(r["version"]),
            safe(r["model"]),
            f"{r['accuracy']:.1%}",
            f"{r['ci95'][0]:.1%}–{r['ci95'][1]:.1%}",
            str(r["n"]),
            str(r["invalid"]),
            r["run"],
        )
    console.print(table)


def demo_step(ctx: DemoContext) -> None:
    """A small suite against the model at QIANMO_DEMO_MODEL_URL, or the command to do so."""
    url = os.environ.get(DEMO_URL_ENV)
    if not url:
        ctx.console.print(
            "[bold]eval[/bold] · to measure a model on a demo suite, point qianmo at an "
            "OpenAI-compatible endpoint (e.g. Ollama):\n"
            f"  {DEMO_URL_ENV}=http://127.0.0.1:11434/v1 "
            f"{DEMO_MODEL_ENV}={DEMO_MODEL} qianmo demo --no-serve"
        )
        return
    model = os.environ.get(DEMO_MODEL_ENV, DEMO_MODEL)
    info = create_suite(ctx.db, "demo", RecordFilter.parse(["kind=mcq"]), limit=20, actor=actor())
    cfg = model_config(model, ctx.settings, base_url=url)
    summary = run_eval(ctx.db, eval_params(info, cfg, RunConfig(), concurrency=8), actor=actor())
    ctx.console.print(f"[bold]eval[/bold] · suite demo v{info.version} ({info.items} items)")
    ctx.state["eval_run"] = summary["run"]
    _print_summary(summary, ctx.console)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
