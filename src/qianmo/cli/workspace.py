"""`qianmo workspace backup|restore|move`: snapshots of the workspace and growing it onto a
server. A backup is one SQLite file; restore keeps a copy of what it replaces."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import typer

from qianmo.cli._common import actor, console, print_json, safe, settings, workspace
from qianmo.errors import QianmoError
from qianmo.store import (
    CopyReport,
    Database,
    audit,
    backup_database,
    move_database,
    restore_database,
)

workspace_app = typer.Typer(help="Back up, restore or move the workspace.", no_args_is_help=True)

_URL_LINE = re.compile(r"^\s*database_url\s*=.*$", re.MULTILINE)


def _audit(db: Database, action: str, detail: str) -> None:
    with db.write() as s:
        audit(s, actor=actor(), action=action, object_type="workspace", object_ids=[detail])


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "empty"


@workspace_app.command("backup")
def backup(
    file: Path = typer.Argument(..., help="The backup file to write (SQLite)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write a consistent snapshot of the workspace, even while it is in use."""
    if file.exists() and not overwrite:
        raise QianmoError("already exists (--overwrite to replace it)", file=str(file))
    db = workspace()
    counts = backup_database(db, file)
    _audit(db, "workspace.backup", file.name)
    if as_json:
        print_json({"file": str(file), "counts": counts})
    else:
        console.print(f"backed up to {safe(file)}: {safe(_summary(counts))}")


def _report(report: CopyReport, what: str, as_json: bool) -> None:
    if as_json:
        print_json({"counts": report.counts, "audit_entries": report.audit.entries, "ok": True})
        return
    console.print(f"{what}: {safe(_summary(report.counts))}")
    console.print(f"counts match; audit chain intact: {report.audit.entries} entries")


@workspace_app.command("restore")
def restore(
    file: Path = typer.Argument(..., help="A file written by `qianmo workspace backup`."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Replace the workspace's content with a backup (the current content is kept aside)."""
    db = workspace()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = settings().home / "backups" / f"before-restore-{stamp}.db"
    aside.parent.mkdir(parents=True, exist_ok=True)
    backup_database(db, aside)
    report = restore_database(db, file)
    _audit(db, "workspace.restore", file.name)
    if not as_json:
        console.print(f"the replaced content is kept in {safe(aside)}")
    _report(report, f"restored {safe(file)}", as_json)


def _point_workspace_at(url: str) -> Path:
    toml = settings().home / "qianmo.toml"
    text = toml.read_text(encoding="utf-8") if toml.exists() else "[qianmo]\n"
    line = f"database_url = {url!r}".replace("'", '"')
    if _URL_LINE.search(text):
        text = _URL_LINE.sub(line, text, count=1)
    elif "[qianmo]" in text:
        text = text.replace("[qianmo]", f"[qianmo]\n{line}", 1)
    else:
        text = f"[qianmo]\n{line}\n{text}"
    toml.write_text(text, encoding="utf-8")
    return toml


@workspace_app.command("move")
def move(
    to: str = typer.Option(..., "--to", help="postgresql+psycopg://USER@HOST:PORT/DB"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Copy the workspace into another database (migrated first, and empty), verify the row
    counts and the audit chain there, and point the workspace at it."""
    source = workspace()
    target = Database(to)
    try:
        report = move_database(source, target)
        _audit(target, "workspace.move", source.dialect)
    finally:
        target.dispose()
    if os.environ.get("QIANMO_DATABASE_URL"):
        note = "QIANMO_DATABASE_URL is set: change it to the new database"
    else:
        note = f"the workspace now uses it ({safe(_point_workspace_at(to))})"
    if not as_json:
        console.print(f"moved to {safe(target.engine.url.render_as_string(hide_password=True))}")
        console.print(note)
    _report(report, "copied", as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")
