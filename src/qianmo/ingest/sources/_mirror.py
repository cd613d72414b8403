"""Reading a source's input file by file, and per-file change detection for mirror folders.

A mirror folder (a cvelistV5 checkout, a folder of OSV advisories or Sigma rules) holds one
self-contained object per file, so a sync can read only the files that changed: each file's
modification time, size and SHA-256 and the original ids it held are kept in the store
(`source_files`). A file whose time and size match is skipped unread; one whose bytes match is
skipped unparsed; the ids of skipped files still count as present upstream. `--full` ignores
the state and reads everything. Formats whose objects refer across files (ATT&CK's per-object
STIX files) have no `mirror_suffixes` and are always read whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, delete, insert, select
from sqlalchemy.orm import Session

from qianmo.ingest._pipeline import content_sha256
from qianmo.ingest.sources._common import (
    Rejected,
    SourceError,
    SourceObject,
    iter_files,
    output_options,
)
from qianmo.ingest.sources._formats import SourceFormat
from qianmo.ingest.sources._write import WriteCounts
from qianmo.store import (
    ImportRow,
    Prepared,
    PreparedCache,
    SourceFileRow,
    arg,
    ids_in,
    ids_statement,
)


def read_file(
    fmt: SourceFormat, path: Path, options: dict[str, Any], counts: WriteCounts
) -> list[SourceObject] | None:
    """Every object of one input (a file, or a folder the reader walks itself); a file that
    cannot be read at all is listed in `counts.rejected` and gives None."""
    try:
        return [
            o if isinstance(o, SourceObject) else SourceObject(o)
            for o in fmt.reader(path, options, on_reject=counts.rejected.append)
        ]
    except SourceError as e:
        counts.rejected.append(Rejected(str(e.location) or str(path), e.message))
        return None


@dataclass(frozen=True)
class FileState:
    mtime_ns: int
    size: int
    sha256: str
    ids: tuple[str, ...]


@dataclass
class MirrorScan:
    """One pass over a mirror folder: what was read, what was skipped, what disappeared."""

    objects: list[SourceObject] = field(default_factory=list)
    kept_ids: set[str] = field(default_factory=set)  # held by files skipped as unchanged
    fresh: dict[str, FileState] = field(default_factory=dict)  # files read: their new state
    forget: list[str] = field(default_factory=list)  # state to drop: files gone or failing
    digests: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.objects and not self.forget and not self.fresh

    @property
    def digest(self) -> str:
        """SHA-256 over every file's name and SHA-256: the mirror's bytes, in a few bytes each."""
        return hashlib.sha256("".join(self.digests).encode()).hexdigest()


def mirror_key(folder: Path) -> str:
    return str(folder.resolve())[:1024]


# A file last read under other options (or by an import whose options are not known): no time,
# size or SHA-256 matches this, so the file is read again, and forgotten if it is gone.
_READ_AGAIN = FileState(-1, -1, "", ())


_FILES: Table = SourceFileRow.__table__  # type: ignore[assignment]
# Prepared (store/_prepared.py): each runs once per import of a mirror, where compiling it for
# a fresh engine and SQLAlchemy's execution layer cost more than the statement (Sigma sample:
# ~1.9 of ~35 ms, cProfile of a first import; the first import holds no state to read).
_STATE = Prepared(
    select(
        _FILES.c.path,
        _FILES.c.mtime_ns,
        _FILES.c.size,
        _FILES.c.sha256,
        _FILES.c.ids,
        _FILES.c.import_id,
    ).where(_FILES.c.format == arg("format"), _FILES.c.mirror == arg("mirror"))
)
_ADD_STATE = Prepared(insert(_FILES).values({c.name: arg(c.name) for c in _FILES.columns}))
_DROP_STATE = PreparedCache(8)


def _drop_state_of(n: int) -> Any:
    return delete(_FILES).where(
        _FILES.c.format == arg("format", String()),
        _FILES.c.mirror == arg("mirror", String()),
        ids_in(_FILES.c.path, n),
    )


# (the options of the imports that last read the files: a no-change re-sync's one query besides
# the state, 0.6 of its 1.4 ms through SQLAlchemy, Sigma sample, cProfile)
_OPTIONS = PreparedCache(8)


def _options_of(n: int) -> Any:
    return select(ImportRow.id, ImportRow.options).where(ids_in(ImportRow.id, n))


def load_state(
    session: Session, fmt: str, folder: Path, options: dict[str, Any]
) -> dict[str, FileState]:
    """The kept state of the mirror's files; a file read by an import whose output options
    (`output_options`) differ from `options` is to be read again."""
    rows = _STATE.on_session(session, {"format": fmt, "mirror": mirror_key(folder)}).rows
    same = _same_options(session, {r[5] for r in rows if r[5]}, options)
    return {
        path: FileState(mtime_ns, size, sha256, tuple(ids or ()))
        if import_id in same
        else _READ_AGAIN
        for path, mtime_ns, size, sha256, ids, import_id in rows
    }


def _same_options(session: Session, import_ids: set[str], options: dict[str, Any]) -> set[str]:
    """Which of these imports ran with the same output options (a few ids: one per sync that
    changed something)."""
    wanted, ids = output_options(options), sorted(import_ids)
    same: set[str] = set()
    for start in range(0, len(ids), 500):
        found, args = ids_statement(_OPTIONS, _options_of, ids[start : start + 500])
        same.update(
            i for i, opts in found.on_session(session, args).rows if output_options(opts) == wanted
        )
    return same


def save_state(
    session: Session, fmt: str, folder: Path, scan: MirrorScan, import_id: str | None
) -> None:
    """Replace the state of the files this scan read or dropped (in the import's transaction,
    so a failed import leaves the previous state)."""
    key = mirror_key(folder)
    paths = sorted({*scan.fresh, *scan.forget})
    conn = session.connection()
    for start in range(0, len(paths), 500):
        drop, args = ids_statement(_DROP_STATE, _drop_state_of, paths[start : start + 500])
        drop.run(conn, {"format": fmt, "mirror": key, **args})
    rows = [
        {
            "format": fmt,
            "mirror": key,
            "path": path,
            "mtime_ns": st.mtime_ns,
            "size": st.size,
            "sha256": st.sha256,
            "ids": list(st.ids),
            "import_id": import_id,
        }
        for path, st in scan.fresh.items()
    ]
    if rows:
        _ADD_STATE.run_many(conn, rows)


def scan_mirror(
    fmt: SourceFormat,
    folder: Path,
    state: dict[str, FileState],
    options: dict[str, Any],
    counts: WriteCounts,
) -> MirrorScan:
    """Read the files of `folder` that changed since `state` (all of them for an empty state)."""
    scan = MirrorScan()
    present: set[str] = set()
    for path in iter_files(folder, fmt.mirror_suffixes):
        rel = str(path.relative_to(folder))
        present.add(rel)
        stat = path.stat()
        held = state.get(rel)
        if held is not None and (held.mtime_ns, held.size) == (stat.st_mtime_ns, stat.st_size):
            _keep(scan, rel, held)
            continue
        sha = content_sha256(path)
        if held is not None and held.sha256 == sha:  # touched, not changed: note the new time
            _keep(scan, rel, held)
            scan.fresh[rel] = FileState(stat.st_mtime_ns, stat.st_size, sha, held.ids)
            continue
        scan.digests.append(f"{rel}\0{sha}\n")
        rejected = len(counts.rejected)
        objects = read_file(fmt, path, options, counts)
        scan.objects += objects or []
        if objects is None or len(counts.rejected) > rejected:
            scan.forget.append(rel)  # read again next time, so its problems are listed again
        else:
            ids = tuple(str(o.record.source.original_id) for o in objects)
            scan.fresh[rel] = FileState(stat.st_mtime_ns, stat.st_size, sha, ids)
    scan.forget += [rel for rel in state if rel not in present]
    return scan


def _keep(scan: MirrorScan, rel: str, held: FileState) -> None:
    scan.kept_ids.update(held.ids)
    scan.digests.append(f"{rel}\0{held.sha256}\n")
