"""`qianmo sync`: bring a local mirror of a source up to date, once or as a recurring job."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from qianmo.errors import QianmoError
from qianmo.ingest.sources._formats import FORMATS
from qianmo.ingest.sources._run import SourceImport, import_source
from qianmo.standard import utcnow
from qianmo.store import Database, JobContext, enqueue, job_handler

SYNC_JOB = "sources.sync"
# Sources whose mirror is complete, so an object missing from it was removed upstream. A KEV
# file lists exploited CVEs only and NVD pages are partial: absence there means nothing.
FULL_MIRRORS = {"cve", "attack", "cwe", "capec", "osv", "sigma"}
SYNCABLE = sorted(f.name for f in FORMATS.values() if f.family)
_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> timedelta:
    """`30m`, `6h`, `1d` → a timedelta (at least a minute, so a loop cannot spin)."""
    m = _INTERVAL.match(text.strip().lower())
    if not m:
        raise QianmoError(f"{text!r}: write a number and s, m, h or d (e.g. 6h)", field="--every")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds < 60:
        raise QianmoError("the interval must be at least one minute", field="--every")
    return timedelta(seconds=seconds)


def sync_source(
    db: Database,
    source: str,
    path: Path,
    *,
    actor: str,
    since: datetime | None = None,
    force: bool = False,
    job_id: str | None = None,
) -> SourceImport:
    """One sync: new objects added, changed ones versioned, removed/rejected ones withdrawn
    (`force`: compare every object even when the mirror's bytes did not change; `job_id`: the
    job running it, named on the import row)."""
    if source not in SYNCABLE:
        raise QianmoError(
            f"unknown source {source!r} (one of {', '.join(SYNCABLE)})", field="SOURCE"
        )
    if not path.exists():
        raise QianmoError("no such file or folder", file=str(path))
    full = source in FULL_MIRRORS and since is None
    return import_source(
        db,
        source,
        [path],
        actor=actor,
        since=since,
        withdraw_absent=full,
        force=force,
        options={"sync": True},
        job_id=job_id,
    )


def schedule_sync(db: Database, params: dict[str, Any], *, actor: str, delay_s: float = 0) -> str:
    with db.write() as s:
        return enqueue(s, SYNC_JOB, params, actor=actor, delay_s=delay_s)


@job_handler(SYNC_JOB)
def _sync_job(ctx: JobContext) -> dict[str, Any]:
    """Run one sync; with `every_s`, queue the next run (a recurring job on the runner)."""
    p = ctx.params
    since = datetime.fromisoformat(p["since"]) if p.get("since") else None
    result = sync_source(
        ctx.db, p["source"], Path(p["path"]), actor=ctx.actor, since=since, job_id=ctx.job_id
    )
    out: dict[str, Any] = {"import_id": result.import_id, **result.counts.as_dict()}
    if p.get("every_s"):
        out["next_job"] = schedule_sync(ctx.db, p, actor=ctx.actor, delay_s=float(p["every_s"]))
        out["next_run_after"] = (utcnow() + timedelta(seconds=float(p["every_s"]))).isoformat()
    ctx.progress(result.counts.read, result.counts.read, "synced")
    return out
