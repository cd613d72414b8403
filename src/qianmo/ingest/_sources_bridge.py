"""Security sources and benchmark formats (`qianmo.ingest.sources`: CVE, KEV, CyberMetric,
SecEval, CTIBench, …) through `qianmo ingest`: recognised by content, written by their own
importer (which also derives items and id hierarchies), reported like any other import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qianmo.ingest._pipeline import (
    LISTED_PROBLEMS,
    ImportSummary,
    IngestOptions,
    StrictAbort,
)
from qianmo.ingest.sources import FORMATS, Rejected, SourceError, detect, import_source
from qianmo.store import Database


def source_format(path: Path, options: IngestOptions) -> str | None:
    """The source format to use, or None for the generic readers (always with a mapping)."""
    if options.format != "auto":
        return options.format if options.format in FORMATS else None
    if options.mapping or path.is_dir():
        return None
    return detect(path)


def _source_options(options: IngestOptions) -> dict[str, Any]:
    pairs = {"source": options.source, "org": options.org, "license": options.license,
             "tlp": options.tlp, "classification": options.classification}  # fmt: skip
    return {k: v for k, v in pairs.items() if v is not None}


def _check_strict(fmt: str, path: Path, label: str, opts: dict[str, Any]) -> None:
    rejects: list[Rejected] = []
    try:
        for _ in FORMATS[fmt].reader(path, opts, on_reject=rejects.append):
            pass
    except SourceError as e:
        rejects.append(Rejected(str(e.location) or label, e.message))  # the whole file
    if rejects:
        raise StrictAbort(label, len(rejects), [f"{r.location}: {r.reason}" for r in rejects])


def ingest_source(
    db: Database,
    path: Path,
    fmt: str,
    options: IngestOptions,
    *,
    actor: str,
    label: str,
    job_id: str | None = None,
) -> ImportSummary:
    opts = _source_options(options)
    if options.strict:
        _check_strict(fmt, path, label, opts)
    # the import row names the job and the input's digest as it is written (setting them
    # afterwards was a second transaction rewriting a hash the import had just stored)
    result = import_source(db, fmt, [path], actor=actor, options=opts, job_id=job_id)
    c = result.counts
    problems = [f"{r.location}: {r.reason}" for r in c.rejected[:LISTED_PROBLEMS]]
    return ImportSummary(
        result.import_id,
        label,
        fmt,
        read=c.read,
        added=c.added + c.items_added,
        updated=c.updated + c.items_updated,
        duplicates=c.unchanged,
        rejected=len(c.rejected),
        input_unchanged=result.input_unchanged,
        problems=problems,
    )
