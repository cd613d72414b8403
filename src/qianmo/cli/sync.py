"""`qianmo sync SOURCE PATH`: bring a local mirror of a security source up to date.

Changed objects become a new version (the old one stays readable) and their derived items are
regenerated; unchanged ones are skipped; removed or rejected ones are withdrawn. `--every 6h`
queues a recurring job that `qianmo worker` (or `qianmo serve`) runs.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path

import typer

from qianmo.cli._common import actor, console, print_json, safe, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.errors import QianmoError
from qianmo.ingest.sources import (
    SYNC_JOB,
    WriteCounts,
    parse_interval,
    schedule_sync,
    sync_source,
)
from qianmo.ingest.sources._sync import SYNCABLE
from qianmo.standard import Record

DEMO_SOURCES = [
    ("cwe", "cwe.xml"),
    ("capec", "capec.xml"),
    ("attack", "attack-2.1.json"),
    ("cve", "cve"),
    ("kev", "kev.json"),
    ("sigma", "sigma"),
]


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return Record.model_validate(
            {
                "kind": "document",
                "content": {"text": "x"},
                "source": {"name": "x"},
                "valid_as_of": text,
            }
        ).valid_as_of
    except ValueError as e:
        raise QianmoError(f"{text!r} is not a date (YYYY-MM-DD)", field="--since") from e


def sync(
    source: str = typer.Argument(..., help=f"One of: {', '.join(SYNCABLE)}."),
    path: Path = typer.Argument(..., help="The local mirror: a file or a folder."),
    since: str | None = typer.Option(None, "--since", help="Only objects changed on or after."),
    every: str | None = typer.Option(None, "--every", help="Repeat as a job, e.g. 6h or 1d."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    full: bool = typer.Option(
        False, "--full", help="Compare every object even when the mirror's bytes are unchanged."
    ),
) -> None:
    """Import new objects of a source, update changed ones and withdraw removed ones."""
    when = _since(since)
    db = workspace()
    if every:
        interval = parse_interval(every)
        params = {
            "source": source,
            "path": str(path.resolve()),
            "since": since,
            "every_s": interval.total_seconds(),
        }
        job_id = schedule_sync(db, params, actor=actor())
        if as_json:
            print_json({"job": job_id, "kind": SYNC_JOB, "every_s": interval.total_seconds()})
        else:
            console.print(
                f"queued {SYNC_JOB} job {job_id}: every {safe(every)} (`qianmo worker` runs it)"
            )
        return
    result = sync_source(db, source, path, actor=actor(), since=when, force=full)
    counts = result.counts.as_dict()
    if as_json:
        print_json(
            {
                "import_id": result.import_id,
                "source": source,
                **counts,
                "input_unchanged": result.input_unchanged,
                "problems": [f"{r.location}: {r.reason}" for r in result.counts.rejected],
            }
        )
        _fail_if_unreadable(source, result.counts)
        return
    c = result.counts
    if result.input_unchanged:
        console.print(
            f"{safe(source)} {safe(path)}: skipped, the same bytes as the last import "
            f"({c.read:,} held; --full reads it anyway) · import {result.import_id}"
        )
        return
    console.print(
        f"{safe(source)} {safe(path)}: {c.read:,} read · {c.added:,} new · "
        f"{c.updated:,} updated · {c.unchanged:,} unchanged · {c.withdrawn:,} withdrawn"
        f" · {c.items_added:,} items added, {c.items_updated:,} regenerated, "
        f"{c.items_stale:,} stale · import {result.import_id}"
    )
    for r in c.rejected[:20]:
        console.print(f"  {safe(r.location)}: {safe(r.reason)}", soft_wrap=True)
    _fail_if_unreadable(source, c)


def _fail_if_unreadable(source: str, counts: WriteCounts) -> None:
    """Exit 1 when the input held problems and not one object: most likely the wrong source
    (a KEV file synced as ATT&CK), which a script must notice. Nothing was withdrawn."""
    if not counts.read and counts.rejected:
        raise QianmoError(
            f"nothing could be read as {source} ({len(counts.rejected)} problems listed)",
            field="SOURCE",
        )


def demo_data_path() -> Path:
    return Path(str(resources.files("qianmo.demo_data").joinpath("sources")))


def demo_step(ctx: DemoContext) -> None:
    """Import the bundled source objects (CWE, CAPEC, ATT&CK, CVE, KEV, Sigma) with their items."""
    root = demo_data_path()
    totals = {"documents": 0, "items": 0}
    for source, name in DEMO_SOURCES:
        result = sync_source(ctx.db, source, root / name, actor=actor())
        totals["documents"] += result.counts.added
        totals["items"] += result.counts.items_added
    ctx.state["sources"] = totals
    ctx.console.print(
        f"sources: {totals['documents']} new source documents, {totals['items']} "
        "derived zh/en items (qianmo sync)"
    )


def register(app: typer.Typer) -> None:
    app.command()(sync)
