"""`qianmo arena library|load|import|campaign run|campaigns|report`."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qianmo.arena import (
    CONVERTERS,
    JUDGES,
    PLANTED,
    CampaignConfig,
    DefenseStack,
    benign_requests,
    builtin_defenses,
    campaign_params,
    get_campaign,
    library_attacks,
    list_campaigns,
    load_defenses,
    load_library,
    render_html,
    resolve_defenses,
    run_campaign_job,
)
from qianmo.cli._batchbar import progress_bar
from qianmo.cli._common import actor, console, print_json, safe, settings, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.errors import QianmoError
from qianmo.llm import ModelConfig, model_config
from qianmo.standard import Record

arena_app = typer.Typer(
    help="The attack-defense range: attacks, defenses, campaigns, reports.", no_args_is_help=True
)
campaign_app = typer.Typer(help="Run arena campaigns.", no_args_is_help=True)
arena_app.add_typer(campaign_app, name="campaign")

# `--format` → the ingest adapter's reader (in qianmo.ingest.sources).
READERS = {
    "cyberseceval": "read_cyberseceval",
    "garak": "read_garak",
    "tensortrust": "read_tensortrust",
    "csv": "read_redteam_csv",
}


def _reader(fmt: str) -> Callable[..., Iterator[Record]]:
    # Imported here, for `arena import` alone: the ingest adapters (stix2, pyarrow, …) were
    # 37 % of `qianmo arena`'s start-up, which every campaign run paid.
    sources = importlib.import_module("qianmo.ingest.sources")
    reader: Callable[..., Iterator[Record]] = getattr(sources, READERS[fmt])
    return reader


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@arena_app.command("library")
def library(as_json: bool = typer.Option(False, "--json")) -> None:
    """The starter library: attacks by category and language, the benign set, converters."""
    attacks, benign = library_attacks(), benign_requests()
    by = Counter((a.content["category"], a.lang) for a in attacks)
    cats = sorted({c for c, _ in by})
    out = {
        "attacks": len(attacks),
        "benign": len(benign),
        "categories": {c: {"en": by[(c, "en")], "zh": by[(c, "zh")]} for c in cats},
        "converters": sorted(CONVERTERS),
        "defenses": {n: d.description for n, d in builtin_defenses().items()},
    }
    if as_json:
        print_json(out)
        return
    table = Table(title=f"{len(attacks)} attacks · {len(benign)} benign requests")
    for col in ("category", "en", "zh"):
        table.add_column(col)
    for c in cats:
        table.add_row(safe(c), str(by[(c, "en")]), str(by[(c, "zh")]))
    console.print(table)
    console.print("converters: " + ", ".join(sorted(CONVERTERS)))
    console.print("defenses: " + ", ".join(builtin_defenses()))


def _load(records: list[Record], as_json: bool, what: str) -> None:
    added, held = load_library(workspace(), records, actor=actor())
    if as_json:
        print_json({"read": len(records), "added": added, "already_held": held})
    else:
        console.print(f"{what}: {len(records)} read, {added} added, {held} already held")


@arena_app.command("load")
def load(as_json: bool = typer.Option(False, "--json")) -> None:
    """Add the starter attack library and the benign set to the workspace as redteam records."""
    _load(library_attacks() + benign_requests(), as_json, "arena library")


@arena_app.command("import")
def import_(
    path: Path = typer.Argument(..., metavar="FILE"),
    fmt: str = typer.Option(..., "--format", help="cyberseceval | garak | tensortrust | csv"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add attacks from a public benchmark or red-team file."""
    if fmt not in READERS:
        raise QianmoError(f"unknown format {fmt!r} (one of: {', '.join(READERS)})", field="format")
    _load(list(_reader(fmt)(path)), as_json, str(path))


def _targets(
    base_url: str | None,
    model: str,
    key_env: str | None,
    defenses: list[str],
    extra: Path | None,
) -> list[tuple[ModelConfig, DefenseStack]]:
    if base_url is None and model not in settings().models:
        raise QianmoError("give --base-url URL (an OpenAI-compatible endpoint) or --planted")
    cfg = model_config(model, settings(), base_url=base_url, api_key_env=key_env)
    if cfg.base_url != PLANTED:
        cfg.api_key()  # an unset key variable is a one-line error before anything is queued
    stacks = resolve_defenses(defenses, load_defenses(extra) if extra else None)
    return [(cfg, d) for d in stacks]


def _print_summary(name: str, summary: dict[str, Any]) -> None:
    table = Table(title=f"arena campaign {safe(name)}")
    for col in ("target", "attack success", "95% CI", "false refusal", "defense score", "undet."):
        table.add_column(col)
    for t in summary["heatmap"]["targets"]:
        a = summary["by_target"].get(t, {"rate": None, "ci95": [0, 1], "undetermined": 0})
        f = summary["false_refusal"].get(t, {}).get("rate")
        score = summary["defense_score"].get(t)
        table.add_row(
            safe(t),
            _pct(a["rate"]),
            f"{_pct(a['ci95'][0])}–{_pct(a['ci95'][1])}",
            _pct(f),
            "—" if score is None else f"{score:.3f}",
            str(a["undetermined"]),
        )
    console.print(table)
    cats = Table(title="attack success by category")
    cats.add_column("category")
    for t in summary["heatmap"]["targets"]:
        cats.add_column(safe(t))
    for cat, cells in summary["heatmap"]["rows"].items():
        cats.add_row(safe(cat), *[_pct(cells.get(t)) for t in summary["heatmap"]["targets"]])
    console.print(cats)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


@campaign_app.command("run")
def campaign_run(
    name: str = typer.Argument(...),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint."),
    model: str = typer.Option("default", "--model", help="A model in qianmo.toml, or the id."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Variable with the key."),
    planted: bool = typer.Option(False, "--planted", help="Use the built-in planted target."),
    defense: list[str] = typer.Option(["none", "baseline"], "--defense", help="Names, a,b,…"),
    defense_file: Path | None = typer.Option(None, "--defense-file", help="More stacks (YAML)."),
    converters: list[str] = typer.Option(["none"], "--converters", help="Chains: base64+roleplay"),
    where: list[str] = typer.Option([], "--filter", help="KEY=VALUE over the attacks."),
    benign: bool = typer.Option(True, "--benign/--no-benign", help="Measure false refusals."),
    judge: str = typer.Option("auto", "--judge", help=" | ".join(JUDGES)),
    judge_base_url: str | None = typer.Option(None, "--judge-base-url"),
    judge_model: str | None = typer.Option(None, "--judge-model"),
    concurrency: int = typer.Option(16, "--concurrency", min=1),
    limit: int | None = typer.Option(None, "--limit", help="At most N attacks and N benign."),
    seed: str = typer.Option("qianmo", "--seed"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ask even when a reply is cached."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run (or resume) a campaign: attacks × converter chains × defenses, plus the benign set.

    It runs as a job in this process; `qianmo worker` runs queued ones the same way."""
    if planted:
        model, base_url = PLANTED, PLANTED
    targets = _targets(base_url, model, api_key_env, _split(defense), defense_file)
    config = CampaignConfig(
        name=name,
        attacks=where or ["tag=arena:attack"],
        benign=["tag=arena:benign"] if benign else [],
        converters=_split(converters),
        judge=judge,
        concurrency=concurrency,
        limit=limit,
        seed=seed,
        models={"model": model, "base_url": targets[0][0].base_url if targets else base_url},
    )
    config.check()
    judge_cfg = None
    if judge_model:
        url = judge_base_url or targets[0][0].base_url
        judge_cfg = model_config(judge_model, settings(), base_url=url)
    params = campaign_params(config, targets, judge=judge_cfg, cache=not no_cache)
    db = workspace()
    if as_json:
        summary = run_campaign_job(db, params, actor=actor())
        print_json(summary)
        return
    bar, update = progress_bar("attempts")
    with bar:
        summary = run_campaign_job(db, params, actor=actor(), progress=update)
    _print_summary(name, summary)


@arena_app.command("campaigns")
def campaigns(as_json: bool = typer.Option(False, "--json")) -> None:
    """Arena campaigns in this workspace."""
    with workspace().read() as s:
        rows = [
            {
                "name": r.name,
                "status": r.status,
                "attempts": (r.summary or {}).get("attempts", 0),
                "asr": ((r.summary or {}).get("asr") or {}).get("rate"),
                "created_at": r.created_at,
            }
            for r in list_campaigns(s)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    for col in ("name", "status", "attempts", "attack success"):
        table.add_column(col)
    for r in rows:
        table.add_row(safe(r["name"]), r["status"], str(r["attempts"]), _pct(r["asr"]))
    console.print(table)


@arena_app.command("report")
def report(
    name: str = typer.Argument(...),
    html: Path | None = typer.Option(None, "--html", help="Default: arena-NAME.html here."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A campaign's tables, and a self-contained HTML report with the category × defense heatmap."""
    with workspace().read() as s:
        row = get_campaign(s, name)
        summary, config = dict(row.summary or {}), dict(row.config or {})
    if not summary:
        raise QianmoError("the campaign has no results yet", object_id=name)
    out = html or Path(f"arena-{''.join(c if c.isalnum() else '-' for c in name)}.html")
    out.write_text(render_html(name, summary, config), encoding="utf-8")
    if as_json:
        print_json(summary | {"html": str(out)})
        return
    _print_summary(name, summary)
    console.print(f"HTML report: {safe(out)}")


def demo_step(ctx: DemoContext) -> None:
    """A small campaign against the planted target on 127.0.0.1: four defenses, two converters."""
    load_library(ctx.db, library_attacks() + benign_requests(), actor=actor())
    config = CampaignConfig(name="demo", converters=["none", "roleplay"], limit=24)
    planted = model_config(PLANTED, base_url=PLANTED)
    stacks = resolve_defenses(["none", "baseline", "filtered", "refuse_all"])
    params = campaign_params(config, [(planted, d) for d in stacks], cache=False)
    summary = run_campaign_job(ctx.db, params, actor=actor())
    ctx.console.print("[bold]arena[/bold] · a campaign against a planted target on 127.0.0.1")
    _print_summary("demo", summary)
    ctx.console.print(
        "against a real model: qianmo arena campaign run NAME --base-url URL --model MODEL "
        "--defense none,baseline,filtered · then qianmo arena report NAME"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(arena_app, name="arena")
