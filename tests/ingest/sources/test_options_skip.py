"""An input with the same bytes as its last import is skipped only when that import ran with
the same output options (licence, TLP, org, source name): other options write other records,
so the input is read again and its records carry the new options."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select, update

from qianmo.ingest import IngestOptions, run_ingest
from qianmo.ingest.sources import import_source, sync_source
from qianmo.store import Database, ImportRow, RecordRow

FIX = Path(__file__).parent / "fixtures"


def _licences(db: Database, source: str) -> set[str]:
    with db.read() as s:
        rows = s.execute(select(RecordRow.data).where(RecordRow.source_name == source)).scalars()
        return {r["source"]["license"] for r in rows if r["status"] != "withdrawn"}


def _tlps(db: Database, source: str) -> set[str]:
    with db.read() as s:
        rows = s.execute(select(RecordRow.data).where(RecordRow.source_name == source)).scalars()
        return {r["source"]["tlp"] for r in rows}


def test_ingest_again_skips_only_with_the_same_options(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "cybermetric.json"
    shutil.copyfile(FIX / "bench" / "cybermetric.json", path)
    first = run_ingest(db, path, IngestOptions(license="MIT"), actor="t")
    assert first.added > 0 and not first.input_unchanged
    same = run_ingest(db, path, IngestOptions(license="MIT"), actor="t")
    assert same.input_unchanged and (same.added, same.updated) == (0, 0)
    other = run_ingest(db, path, IngestOptions(license="CC-BY-4.0"), actor="t")
    assert not other.input_unchanged and other.updated == first.added
    assert _licences(db, "cybermetric") == {"CC-BY-4.0"}
    tlp = run_ingest(db, path, IngestOptions(license="CC-BY-4.0", tlp="GREEN"), actor="t")
    assert not tlp.input_unchanged and tlp.updated == first.added
    assert _tlps(db, "cybermetric") == {"GREEN"}
    # back to the first options: the last import of these bytes ran with others
    back = run_ingest(db, path, IngestOptions(license="MIT"), actor="t")
    assert not back.input_unchanged and _licences(db, "cybermetric") == {"MIT"}
    assert run_ingest(db, path, IngestOptions(license="MIT"), actor="t").input_unchanged


def test_a_mirror_folder_is_read_again_under_other_options(db: Database, tmp_path: Path) -> None:
    """Per file too: the kept state of a mirror's files says nothing about other options."""
    mirror = tmp_path / "osv"
    shutil.copytree(FIX / "osv", mirror)
    opts = IngestOptions(format="osv", license="MIT")
    first = run_ingest(db, mirror, opts, actor="t")
    assert first.added > 0 and run_ingest(db, mirror, opts, actor="t").input_unchanged
    other = run_ingest(db, mirror, IngestOptions(format="osv", license="Apache-2.0"), actor="t")
    assert not other.input_unchanged and other.updated > 0
    assert _licences(db, "osv") == {"Apache-2.0"}
    # `qianmo sync` states no licence: each advisory's own one comes back
    synced = sync_source(db, "osv", mirror, actor="t")
    assert not synced.input_unchanged and synced.counts.updated > 0
    assert "Apache-2.0" not in _licences(db, "osv")
    assert sync_source(db, "osv", mirror, actor="t").input_unchanged


def test_sync_and_ingest_without_options_still_recognise_each_other(
    db: Database, tmp_path: Path
) -> None:
    """`sync` marks its imports (`{"sync": true}`): bookkeeping, not an output option."""
    path = tmp_path / "kev.json"
    shutil.copyfile(FIX / "kev.json", path)
    assert sync_source(db, "kev", path, actor="t").counts.added > 0
    assert run_ingest(db, path, IngestOptions(format="kev"), actor="t").input_unchanged
    other = run_ingest(db, path, IngestOptions(format="kev", org="acme"), actor="t")
    assert not other.input_unchanged


def test_an_import_row_without_options_means_read_once_more(db: Database, tmp_path: Path) -> None:
    """Rows written before the options were compared (a skip's row kept none): the next import
    with options reads the input once, and the one after is skipped."""
    path = tmp_path / "seceval.json"
    shutil.copyfile(FIX / "bench" / "seceval.json", path)
    opts = IngestOptions(license="MIT")
    run_ingest(db, path, opts, actor="t")
    with db.write() as s:
        s.execute(update(ImportRow).values(options={}))
    again = run_ingest(db, path, opts, actor="t")
    assert not again.input_unchanged and (again.added, again.updated) == (0, 0)
    assert run_ingest(db, path, opts, actor="t").input_unchanged


def test_cli_says_why_it_skipped(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cybermetric.json"
    shutil.copyfile(FIX / "bench" / "cybermetric.json", path)
    assert cli("init").code == 0
    assert cli("ingest", str(path), "--license", "MIT").code == 0
    same = cli("ingest", str(path), "--license", "MIT")
    assert same.code == 0 and "skipped, the same bytes and options as the last import" in same.out
    other = cli("ingest", str(path), "--license", "Apache-2.0", "--json")
    (summary,) = json.loads(other.out)
    assert summary["updated"] > 0 and summary["input_unchanged"] is False
    records = json.loads(cli("records", "list", "--json").out)
    assert records and {r["source"]["license"] for r in records} == {"Apache-2.0"}


class Imported(NamedTuple):
    input_unchanged: bool
    updated: int


def _texts(db: Database, source: str) -> set[str]:
    with db.read() as s:
        rows = s.execute(select(RecordRow.data).where(RecordRow.source_name == source)).scalars()
        return {json.dumps(r["content"], sort_keys=True) for r in rows}


def _a_then_b_then_a(
    db: Database, path: Path, a: bytes, b: bytes, source: str, run: Callable[[], Imported]
) -> None:
    """A, then B, then A again at one path: the last import read B, so the records hold B and A
    is read (the skip compares with the latest import of the path, not with any import of A);
    A once more is then the same bytes as the last import, and skipped."""
    assert a != b
    path.write_bytes(a)
    run()
    held_a = _texts(db, source)
    path.write_bytes(b)
    assert run() == (False, 1)
    assert _texts(db, source) != held_a
    path.write_bytes(a)
    back = run()
    assert not back.input_unchanged and back.updated == 1
    assert _texts(db, source) == held_a
    assert run().input_unchanged


def test_bytes_seen_before_are_read_again_after_other_bytes(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "cybermetric.json"
    a = (FIX / "bench" / "cybermetric.json").read_bytes()
    b = a.replace(b'"C": "22"', b'"C": "2222"')

    def run() -> Imported:
        done = run_ingest(db, path, IngestOptions(), actor="t")
        return Imported(done.input_unchanged, done.updated)

    _a_then_b_then_a(db, path, a, b, "cybermetric", run)


def test_sync_of_bytes_seen_before_after_other_bytes(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "kev.json"
    a = (FIX / "kev.json").read_bytes()
    b = a.replace(b"reflected XSS", b"stored XSS")

    def run() -> Imported:
        done = sync_source(db, "kev", path, actor="t")
        return Imported(done.input_unchanged, done.counts.updated)

    _a_then_b_then_a(db, path, a, b, "cve", run)


def test_an_import_filtered_by_since_does_not_skip_the_next_import_of_the_same_bytes(
    db: Database,
) -> None:
    # `since` left the older objects out: the same bytes imported without it write them
    path = FIX / "cve" / "CVE-2030-0001.json"
    later = datetime(2100, 1, 1, tzinfo=UTC)
    filtered = import_source(db, "cve", [path], actor="t", since=later)
    assert filtered.counts.added == 0
    whole = import_source(db, "cve", [path], actor="t")
    assert not whole.input_unchanged and whole.counts.added == 1
