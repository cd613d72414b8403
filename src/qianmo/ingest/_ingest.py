"""One input as one import: a security source or benchmark file goes to its own importer,
anything else streams through the generic readers and mappings."""

from __future__ import annotations

from pathlib import Path

from qianmo.errors import QianmoError
from qianmo.ingest._convert import Defaults
from qianmo.ingest._mapping import load_mapping
from qianmo.ingest._pipeline import (
    ImportSummary,
    IngestOptions,
    ProgressFn,
    Run,
    content_sha256,
    run_incremental,
    run_strict,
)
from qianmo.ingest._registry import detect_format, get_reader
from qianmo.ingest._sources_bridge import ingest_source, source_format
from qianmo.store import Database


def ingest_file(
    db: Database,
    path: Path,
    options: IngestOptions,
    *,
    actor: str,
    job_id: str | None = None,
    label: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportSummary:
    """Import one input (a file, or a dataset folder) as one import; see the module docstring."""
    if not path.exists():
        raise QianmoError("no such file or folder", file=label or str(path))
    known_source = source_format(path, options)
    if known_source is not None:
        return ingest_source(
            db, path, known_source, options, actor=actor, label=label or str(path), job_id=job_id
        )
    if options.format == "auto":
        fmt = detect_format(path, generic_only=options.mapping is not None)
    else:
        fmt = get_reader(options.format).name
    mapping = load_mapping(Path(options.mapping)) if options.mapping else None
    defaults = Defaults(
        options.source or path.stem,
        options.org,
        options.license,
        options.tlp,
        options.classification,
    )
    run = Run(db, path, label or str(path), fmt, options, mapping, defaults, actor, progress)
    sha = content_sha256(path)
    return run_strict(run, sha, job_id) if options.strict else run_incremental(run, sha, job_id)
