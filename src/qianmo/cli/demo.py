"""`qianmo demo`: the whole loop on the embedded default, on a corpus that ships in the package.

Each capability adds its part as a `demo_step(ctx)` in its own CLI module; the steps run in
the order of `DEMO_STEPS`, and a capability that is not installed is skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from importlib import resources
from pathlib import Path

import typer
from rich.table import Table

from qianmo.cli._common import actor, console, safe
from qianmo.cli._demo_context import DemoContext
from qianmo.ingest import IngestOptions, run_ingest
from qianmo.settings import Settings
from qianmo.store import init_workspace, record_stats

# CLI modules whose `demo_step(ctx)` runs, in this order.
DEMO_STEPS = ["accounts", "sync", "quality", "release", "annotate", "eval", "arena", "serve"]
DEMO_CORPUS = "corpus.jsonl"


def corpus_path() -> Path:
    return Path(str(resources.files("qianmo.demo_data").joinpath(DEMO_CORPUS)))


def load_corpus(ctx: DemoContext) -> int:
    """Load the bundled corpus the way `qianmo ingest` does (one import, a job); loading it
    again adds nothing."""
    summary = run_ingest(ctx.db, corpus_path(), IngestOptions(format="jsonl"), actor=actor())
    return summary.added


def _summary(ctx: DemoContext) -> None:
    with ctx.db.read() as s:
        kinds = record_stats(s, "kind")
        langs = dict(record_stats(s, "lang"))
        domains = record_stats(s, "domain:top")
    table = Table(title="demo corpus")
    table.add_column("kind")
    table.add_column("records", justify="right")
    for kind, n in kinds:
        table.add_row(kind, str(n))
    console.print(table)
    console.print(
        "languages: "
        + ", ".join(f"{safe(k)} {n}" for k, n in sorted(langs.items()))
        + f" · domains: {len(domains)}"
    )


def demo(
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Do everything but serve the web platform."
    ),
    workspace: Path | None = typer.Option(
        None, "--workspace", "-w", help="Default: QIANMO_HOME or ./qianmo-data."
    ),
) -> None:
    """Create a workspace, load the demo corpus and run the whole loop on it."""
    if workspace is not None:
        os.environ["QIANMO_HOME"] = str(workspace)
    settings = Settings()
    ctx = DemoContext(
        db=init_workspace(settings), settings=settings, console=console, serve=not no_serve
    )
    added = load_corpus(ctx)
    where = safe(settings.home.resolve())
    console.print(f"[bold]qianmo demo[/bold] · workspace {where} · {added} new records")
    _summary(ctx)
    for name in DEMO_STEPS:
        if importlib.util.find_spec(f"qianmo.cli.{name}") is None:
            continue
        step = getattr(importlib.import_module(f"qianmo.cli.{name}"), "demo_step", None)
        if step is not None:
            step(ctx)


def register(app: typer.Typer) -> None:
    app.command()(demo)
