"""`qianmo schema export` and `qianmo taxonomy show`: the data standard as users read it."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.table import Table

from qianmo.cli._common import console, print_json, safe
from qianmo.standard import json_schema, load_taxonomy

schema_app = typer.Typer(help="The record JSON Schema.", no_args_is_help=True)
taxonomy_app = typer.Typer(help="The security knowledge taxonomy.", no_args_is_help=True)


@schema_app.command("export")
def export(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
) -> None:
    """Write the JSON Schema of a record (data standard v1)."""
    data = orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if out is None:
        typer.echo(data.decode())
    else:
        out.write_bytes(data + b"\n")
        console.print(f"wrote {safe(out)}")


@taxonomy_app.command("show")
def show(
    lang: str = typer.Option("en", "--lang", help="Label language: zh or en."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the domains and subdomains with their labels and mappings."""
    tax = load_taxonomy()
    if as_json:
        print_json(
            {
                "version": tax.version,
                "domains": [
                    {
                        "code": d.code,
                        "label": d.label(lang),
                        "parent": d.parent,
                        "attack_tactics": list(d.attack_tactics),
                        "cwe": list(d.cwe_categories),
                    }
                    for d in tax.domains.values()
                ],
            }
        )
        return
    table = Table(title=f"taxonomy v{tax.version}")
    for col in ("code", "label", "ATT&CK tactics", "CWE"):
        table.add_column(col)
    for top in tax.top_level:
        for code in (top.code, *top.children):
            d = tax.domains[code]
            indent = "" if d.parent is None else "  "
            table.add_row(
                indent + d.code,
                d.label(lang),
                " ".join(d.attack_tactics),
                " ".join(d.cwe_categories),
            )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema")
    app.add_typer(taxonomy_app, name="taxonomy")
