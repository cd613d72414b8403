"""The `qianmo` command: one module per command group, each registering itself on the app."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import TYPE_CHECKING, Any

from qianmo._gc import collector_paused

if TYPE_CHECKING:
    import typer

HELP = "qianmo (阡陌): co-build, check, label, release and measure cybersecurity datasets."

# Each module has `register(app)`; a capability that is not installed simply is not listed.
# The keys are the top-level commands each module registers, so `qianmo eval run` imports
# only `qianmo.cli.eval`: importing every command group (the web app, the ingest adapters and
# their stix2/requests, …) cost more start-up than a whole evaluation run's own work.
COMMANDS: dict[str, str] = {
    "init": "init",
    "demo": "demo",
    "ingest": "ingest",
    "sync": "sync",
    "records": "records",
    "imports": "imports",
    "schema": "standard",
    "taxonomy": "standard",
    "quality": "quality",
    "audit": "audit",
    "worker": "jobs",
    "jobs": "jobs",
    "workspace": "workspace",
    "serve": "serve",
    "orgs": "accounts",
    "users": "accounts",
    "tokens": "accounts",
    "annotate": "annotate",
    "release": "release",
    "eval": "eval",
    "arena": "arena",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def build_app(modules: list[str] | None = None) -> typer.Typer:
    """The app with the given command modules (default: all of them)."""
    import typer

    app = typer.Typer(
        name="qianmo",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def root() -> None:  # a group even when one module holds a single command (`init`)
        pass

    for name in COMMAND_MODULES if modules is None else modules:
        if importlib.util.find_spec(f"qianmo.cli.{name}") is not None:
            importlib.import_module(f"qianmo.cli.{name}").register(app)
    return app


_full: list[typer.Typer] = []


def __getattr__(name: str) -> Any:
    """`from qianmo.cli import app`: the whole command tree, built on first use."""
    if name == "app":
        if not _full:
            _full.append(build_app())
        return _full[0]
    raise AttributeError(name)


def main() -> None:
    first = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    modules = [COMMANDS[first]] if first in COMMANDS else None
    # Start-up imports build some 200,000 objects, and the cyclic collector ran over them again
    # and again as they grew: importing `qianmo eval`'s modules took 1.01 CPU s with it on and
    # 0.80–0.89 s paused. Nothing made while importing is garbage, so the passes are pure cost;
    # and it lives as long as the process, so it is frozen for the command's own passes. (Only
    # here, in the command's own process: a program importing `qianmo.cli` keeps its collector.)
    with collector_paused(keep=True):
        from qianmo.cli._common import err_console, run_app

        app = build_app(modules)
    sys.exit(run_app(app, err_console))
