"""`qianmo records list|show|search|stats|restore`."""

from __future__ import annotations

import typer
from rich import box
from rich.table import Table

from qianmo.cli._common import actor, console, print_json, safe, workspace
from qianmo.standard import Record
from qianmo.store import (
    RecordFilter,
    get_record,
    get_versions,
    list_records,
    record_stats,
    restore_records,
    search_records,
)

records_app = typer.Typer(help="Browse, search, count and restore records.", no_args_is_help=True)


def _preview(record: Record, width: int = 70) -> str:
    text = " ".join(record.text().split())
    return text[:width] + ("…" if len(text) > width else "")


# Below this width the organisation, TLP, domain and status columns are left to --json.
WIDE_TABLE = 120


def _table(records: list[Record]) -> Table:
    # Metadata keeps its natural width; the text preview takes what is left and is cut short.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=True)
    wide = console.width >= WIDE_TABLE
    cols = (
        ("id", "kind", "lang", "domain", "status", "org", "tlp") if wide else ("id", "kind", "lang")
    )
    for col in cols:
        table.add_column(col, no_wrap=True)
    table.add_column("text", no_wrap=True, overflow="ellipsis", ratio=1, min_width=12)
    for r in records:
        meta = {
            "id": r.id,
            "kind": r.kind.value,
            "lang": r.lang,
            "domain": safe(r.domain or ""),
            "status": r.status.value,
            "org": safe(r.source.org or ""),
            "tlp": r.source.tlp.value,
        }
        table.add_row(*(meta[c] for c in cols), safe(_preview(r)))
    return table


@records_app.command("list")
def list_(
    kind: str | None = typer.Option(None, "--kind"),
    domain: str | None = typer.Option(
        None, "--domain", help="A domain selects its subdomains too."
    ),
    lang: str | None = typer.Option(None, "--lang"),
    org: str | None = typer.Option(None, "--org"),
    source: str | None = typer.Option(None, "--source"),
    status: str | None = typer.Option(None, "--status"),
    where: list[str] = typer.Option([], "--filter", help="More KEY=VALUE conditions."),
    limit: int = typer.Option(50, "--limit"),
    after: str | None = typer.Option(None, "--after", help="Continue after this record id."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Records matching the filters, oldest first."""
    flt = RecordFilter.parse(
        [
            *where,
            *RecordFilter.of(
                kind=kind, domain=domain, lang=lang, org=org, source=source, status=status
            ).to_list(),
        ]
    )
    with workspace().read() as s:
        records = list_records(s, flt, limit=limit, after=after)
    if as_json:
        print_json([r.to_json() for r in records])
    else:
        console.print(_table(records))


@records_app.command("show")
def show(
    record_ids: list[str] = typer.Argument(..., metavar="ID..."),
    versions: bool = typer.Option(False, "--versions", help="Every version, oldest first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Records in full (JSON)."""
    out: list[dict[str, object]] = []
    with workspace().read() as s:
        for rid in record_ids:
            if versions:
                out.extend(r.to_json() for r in get_versions(s, rid))
            else:
                out.append(get_record(s, rid).to_json())
    print_json(out if len(out) != 1 or as_json else out[0])


@records_app.command("search")
def search(
    text: str = typer.Argument(..., help="Text to find; Chinese substrings work."),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Full-text search over record text, ids and tags."""
    with workspace().read() as s:
        records = search_records(s, text, limit=limit)
    if as_json:
        print_json([r.to_json() for r in records])
    else:
        console.print(_table(records))


@records_app.command("stats")
def stats(
    by: str = typer.Option("kind", "--by", help="Field, or published_at:month|year for freshness."),
    where: list[str] = typer.Option([], "--filter"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Counts grouped by a field."""
    with workspace().read() as s:
        rows = record_stats(s, by, RecordFilter.parse(where))
    if as_json:
        print_json({"by": by, "counts": dict(rows), "total": sum(n for _, n in rows)})
        return
    table = Table(title=f"records by {safe(by)}")
    table.add_column(by)
    table.add_column("count", justify="right")
    table.add_column("")
    top = max((n for _, n in rows), default=1)
    for key, n in rows:
        table.add_row(safe(key), str(n), "█" * max(1, round(30 * n / top)))
    console.print(table)


@records_app.command("restore")
def restore(record_ids: list[str] = typer.Argument(..., metavar="ID...")) -> None:
    """Bring rejected records back (as needs_review, a new version naming you)."""
    with workspace().write() as s:
        restored = restore_records(s, record_ids, actor=actor())
    for r in restored:
        console.print(f"{r.id}: restored (version {r.version}, {r.status.value})")


def register(app: typer.Typer) -> None:
    app.add_typer(records_app, name="records")
