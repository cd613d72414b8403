"""`qianmo audit verify|log`: check and read the hash-chained audit log."""

from __future__ import annotations

import typer
from rich.table import Table

from qianmo.cli._common import console, print_json, safe, workspace
from qianmo.errors import QianmoError
from qianmo.store import audit_entries, verify_chain

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Check every link of the chain; name the first altered, removed or moved entry."""
    with workspace().read() as s:
        report = verify_chain(s)
    if as_json:
        problem = report.problem
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "first_bad_entry": problem.seq if problem else None,
                "problem": problem.problem if problem else None,
            }
        )
    if report.problem is not None:
        raise QianmoError(str(report.problem))
    if not as_json:
        console.print(f"audit chain intact: {report.entries} entries")


@audit_app.command("log")
def log(
    limit: int = typer.Option(50, "--limit"),
    action: str | None = typer.Option(None, "--action"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The latest entries, newest first."""
    with workspace().read() as s:
        rows = audit_entries(s, limit=limit, action=action)
        entries = [
            {
                "seq": r.seq,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "object_type": r.object_type,
                "count": r.count,
                "object_ids": r.object_ids,
                "digest": r.digest,
                "artifact": r.artifact,
                "hash": r.hash,
            }
            for r in rows
        ]
    if as_json:
        print_json(entries)
        return
    table = Table()
    for col in ("seq", "at", "actor", "action", "objects", "hash"):
        table.add_column(col)
    for e in entries:
        ids = e["object_ids"]
        what = f"{e['count']} {e['object_type']}" + (f" {ids[0]}" if len(ids) == 1 else "")
        table.add_row(
            str(e["seq"]),
            e["at"][:19],
            safe(e["actor"]),
            safe(e["action"]),
            safe(what),
            e["hash"][:12],
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
