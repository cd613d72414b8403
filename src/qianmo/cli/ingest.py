"""`qianmo ingest PATH…`: files or folders into the data standard, each file one import (a job).

Bad rows are reported as `FILE:LINE: field: reason` and kept with the import (`qianmo imports
show ID`); the good rows land. Exit 1 only when no row of any input could be read as a record.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from qianmo.cli._common import actor, console, err_console, print_json, safe, workspace
from qianmo.errors import QianmoError
from qianmo.ingest import ImportSummary, IngestOptions, expand_inputs, run_ingest
from qianmo.ingest import Progress as IngestProgress
from qianmo.store import Database

# Bad rows listed on the terminal per input; `qianmo imports show ID` lists them all.
SHOWN_PROBLEMS = 20


def _one(db: Database, path: Path, options: IngestOptions) -> ImportSummary:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(safe(path), total=None, counts="")

        def show(p: IngestProgress) -> None:
            s = p.summary
            counts = f"{p.done:,} rows · {s.added:,} added · {s.rejected:,} rejected"
            bar.update(task, counts=counts)

        return run_ingest(db, path, options, actor=actor(), progress=show)


def _report(summary: ImportSummary) -> None:
    s = summary
    resumed = " (resumed)" if s.resumed else ""
    if s.input_unchanged:
        console.print(
            f"{safe(s.file)} {safe(f'[{s.format}]')}: skipped, the same bytes and options as "
            f"the last import ({s.read:,} held) · import {s.import_id}"
        )
        return
    console.print(
        f"{safe(s.file)} {safe(f'[{s.format}]')}{resumed}: {s.read:,} read, {s.added:,} added, "
        f"{f'{s.updated:,} updated, ' if s.updated else ''}"
        f"{s.duplicates:,} already held, {s.rejected:,} rejected · import {s.import_id}"
    )
    for line in s.problems[:SHOWN_PROBLEMS]:
        console.print(f"  {safe(line)}", soft_wrap=True)
    if s.rejected:
        console.print(f"  rejected rows are kept: qianmo imports show {s.import_id}")


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders."),
    format_: str = typer.Option(
        "auto", "--format", "-f", help="auto (by extension and content) or a format name."
    ),
    mapping: Path | None = typer.Option(None, "--mapping", "-m", help="YAML column mapping."),
    org: str | None = typer.Option(None, "--org", help="Contributing organisation."),
    license_: str | None = typer.Option(None, "--license", help="SPDX id or expression."),
    tlp: str | None = typer.Option(None, "--tlp", help="CLEAR, GREEN, AMBER, AMBER+STRICT, RED."),
    classification: str | None = typer.Option(
        None, "--classification", help="general, important or core."
    ),
    source: str | None = typer.Option(None, "--source", help="Source name (default: file name)."),
    strict: bool = typer.Option(False, "--strict", help="Any bad row: write nothing."),
    split: str | None = typer.Option(None, "--split", help="headings: one document per section."),
    batch_size: int = typer.Option(2000, "--batch-size", min=1, help="Rows per transaction."),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """Import files or folders into the data standard; each file is one import."""
    options = IngestOptions(
        format=format_,
        mapping=str(mapping) if mapping else None,
        source=source,
        org=org,
        license=license_,
        tlp=tlp,
        classification=classification,
        strict=strict,
        split=split,
        batch_size=batch_size,
    )
    db = workspace()
    inputs, skipped = expand_inputs(paths, format_)
    for path in skipped:
        err_console.print(f"skipped {safe(path)}: unknown format")
    summaries = []
    for path in inputs:
        summary = _one(db, path, options)
        summaries.append(summary)
        if not as_json:
            _report(summary)
    if as_json:
        print_json([s.to_dict() for s in summaries])
    if not any(s.added or s.duplicates or s.updated for s in summaries):
        rejected = sum(s.rejected for s in summaries)
        raise QianmoError(f"nothing could be read as a record ({rejected} rejected rows kept)")


def register(app: typer.Typer) -> None:
    app.command()(ingest)
