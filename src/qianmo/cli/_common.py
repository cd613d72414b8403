"""What every command shares: the console, the workspace, JSON output and the error path."""

from __future__ import annotations

import gc
import getpass
import os
import sys
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from qianmo.errors import QianmoError
from qianmo.settings import Settings, get_settings
from qianmo.store import Database, open_workspace

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

ACTOR_CLI = "cli"


def settings() -> Settings:
    return get_settings()


# One Database per URL for the length of a command: opening one builds an engine and reads
# every migration script to check the schema, which commands calling `workspace()` in a loop
# paid each time. `run_app` disposes them when the command ends.
_open: dict[str, Database] = {}


def workspace() -> Database:
    """The current workspace's database (QIANMO_HOME or ./qianmo-data, or QIANMO_DATABASE_URL)."""
    current = settings()
    db = _open.get(current.db_url)
    if db is None:
        db = _open[current.db_url] = open_workspace(current)
    return db


def close_workspaces() -> None:
    """Dispose every database this command opened (its pooled connections close now)."""
    while _open:
        _open.popitem()[1].dispose()


def actor() -> str:
    """Who the CLI acts as in the audit log: QIANMO_ACTOR, else the operating system user."""
    return os.environ.get("QIANMO_ACTOR") or f"cli:{getpass.getuser()}"


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def safe(text: object) -> str:
    """Data shown in rich output is escaped: corpora contain `[bold]`-like and other payloads."""
    return escape(str(text))


def run_app(app: typer.Typer, errors: Console, args: list[str] | None = None) -> int:
    """Run the CLI: user errors as one line and exit 1, usage errors exit 2, Ctrl-C exits 130."""
    # The ~250k objects of the imported modules live as long as the process: kept out of the
    # collector's scans, they stop costing every full collection a long command triggers
    # (20k-row ingest: 16.5 s -> 13.7 s).
    gc.freeze()
    try:
        code = app(args=args, standalone_mode=False, prog_name="qianmo")
    except QianmoError as e:
        errors.print(f"[red]error:[/red] {safe(e)}", soft_wrap=True)
        return 1
    except typer.TyperException as e:  # usage errors: exit 2, with click's own message
        e.show()  # type: ignore[attr-defined]
        return int(e.exit_code)  # type: ignore[attr-defined]
    except (typer.Abort, KeyboardInterrupt):
        errors.print("interrupted")
        return 130
    except typer.Exit as e:
        return int(e.exit_code)
    finally:
        close_workspaces()
    return code if isinstance(code, int) else 0
