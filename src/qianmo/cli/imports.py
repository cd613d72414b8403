"""`qianmo imports list|show`: each import, its counts, and the rows it rejected (kept raw)."""

from __future__ import annotations

import typer
from rich.table import Table

from qianmo.cli._common import console, print_json, safe, workspace
from qianmo.ingest import count_rejected, get_import, list_imports, problem_line, rejected_rows

imports_app = typer.Typer(help="Imports and their rejected rows.", no_args_is_help=True)

RAW_PREVIEW = 120


def _counts(c: dict[str, int]) -> str:
    return (
        f"{c.get('read', 0):,} read · {c.get('added', 0):,} added · "
        f"{c.get('duplicates', 0):,} held · {c.get('rejected', 0):,} rejected"
    )


@imports_app.command("list")
def list_(
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Imports, newest first."""
    with workspace().read() as s:
        rows = list_imports(s, limit=limit)
    if as_json:
        print_json(rows)
        return
    table = Table()
    for col in ("id", "file", "format", "status", "counts", "by", "when"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["id"],
            safe(r["file"]),
            safe(r["format"]),
            r["status"],
            _counts(r["counts"]),
            safe(r["actor"] or ""),
            str(r["created_at"])[:19],
        )
    console.print(table)


@imports_app.command("show")
def show(
    import_id: str,
    limit: int | None = typer.Option(None, "--limit", help="Rejected rows to list (all)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One import and every row it rejected, with the reasons and the row as it was sent."""
    with workspace().read() as s:
        info = get_import(s, import_id)
        info["rejected_rows"] = rejected_rows(s, import_id, limit=limit)
        total = count_rejected(s, import_id)
    if as_json:
        print_json(info)
        return
    fmt = safe(f"[{info['format']}]")
    console.print(f"[bold]import {info['id']}[/bold] · {safe(info['file'])} {fmt}")
    console.print(f"status {info['status']} · {_counts(info['counts'])}")
    console.print(
        f"sha256 {info['sha256']} · by {safe(info['actor'] or '')} · {info['created_at']}"
    )
    for row in info["rejected_rows"]:
        for reason in row["reasons"]:
            console.print(safe(problem_line(row["location"], reason)), soft_wrap=True)
        raw = row["raw"] if len(row["raw"]) <= RAW_PREVIEW else row["raw"][:RAW_PREVIEW] + "…"
        console.print(f"  [dim]{safe(raw)}[/dim]", soft_wrap=True)
    if len(info["rejected_rows"]) < total:
        console.print(f"… {total - len(info['rejected_rows'])} more (--limit, or --json)")


def register(app: typer.Typer) -> None:
    app.add_typer(imports_app, name="imports")
