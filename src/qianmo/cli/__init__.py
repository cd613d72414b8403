"""The `qianmo` command: one module per command group, each registering itself on the app."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import typer

from qianmo.cli._common import err_console, run_app

app = typer.Typer(
    name="qianmo",
    help="qianmo (阡陌): co-build, check, label, release and measure cybersecurity datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module has `register(app)`; a capability that is not installed simply is not listed.
COMMAND_MODULES = [
    "init",
    "demo",
    "ingest",
    "sync",
    "records",
    "imports",
    "standard",
    "quality",
    "audit",
    "jobs",
    "workspace",
    "serve",
    "accounts",
    "annotate",
    "release",
    "eval",
    "arena",
]

for _name in COMMAND_MODULES:
    if importlib.util.find_spec(f"qianmo.cli.{_name}") is not None:
        importlib.import_module(f"qianmo.cli.{_name}").register(app)


def main() -> None:
    sys.exit(run_app(app, err_console))
