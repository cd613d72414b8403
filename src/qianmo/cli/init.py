"""`qianmo init`: create or upgrade a workspace."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from qianmo.cli._common import console, safe
from qianmo.settings import Settings
from qianmo.store import init_workspace


def init(
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Folder of the workspace (default: QIANMO_HOME or ./qianmo-data).",
    ),
) -> None:
    """Create a workspace (or upgrade an existing one's database)."""
    if workspace is not None:
        os.environ["QIANMO_HOME"] = str(workspace)
    settings = Settings() if workspace is None else Settings(home=workspace)
    db = init_workspace(settings)
    where = settings.database_url or str(settings.home.resolve())
    db.dispose()
    console.print(f"workspace ready: {safe(where)}")


def register(app: typer.Typer) -> None:
    app.command()(init)
