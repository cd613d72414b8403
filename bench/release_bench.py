"""Check, split, build and export a large release; compare with writing the same rows with
pyarrow alone in the same run.

    PYTHONPATH=src python bench/release_bench.py            # 500,000 records
    PYTHONPATH=src python bench/release_bench.py --n 50000  # quicker

Setting up the records (validation and inserting into a fresh SQLite workspace) is not timed.
Prints seconds, records/s and the peak resident memory of each phase.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from qianmo.circulate import Audience, ReleaseRequest, assign_splits, check, export_release
from qianmo.circulate._export import SCHEMA
from qianmo.circulate._release import _store, table_digest
from qianmo.circulate._summary import summarise
from qianmo.standard import Record
from qianmo.store import Database, OrgRow, ReleaseRow, add_records, upgrade

T = TypeVar("T")
PAGE = 5000
DOMAINS = ("grc.risk", "data.privacy", "crypto.pki", "iam.federation", "net.defense")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Samples resident memory every 20 ms while the block runs."""
    out = {"peak": rss_mb(), "start": rss_mb()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            out["peak"] = max(out["peak"], rss_mb())

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        yield out
    finally:
        stop.set()
        t.join()
        out["peak"] = max(out["peak"], rss_mb())


def record(i: int) -> dict[str, Any]:
    kind = ("document", "qa", "mcq")[i % 3]
    content = {
        "document": {"title": f"Advisory {i}", "text": f"Heap overflow in parser {i}. " * 8},
        "qa": {"question": f"Which CWE fits flaw {i}?", "answer": "CWE-787 out-of-bounds write"},
        "mcq": {"question": f"Item {i}?", "choices": {"A": "yes", "B": "no"}, "answer": "A"},
    }[kind]
    flags: dict[str, Any] = {}
    if i % 10 == 0:
        flags["duplicate"] = {"cluster": f"c{i // 30}", "representative": "x", "resolved": True}
    if i % 97 == 0:
        flags["pii"] = {"resolved": False}
    return {
        "kind": kind,
        "lang": "zh" if i % 4 == 0 else "en",
        "domain": DOMAINS[i % 5],
        "content": content,
        "source": {
            "name": f"feed-{i % 7}",
            "org": f"org-{i % 3}",
            "license": ("CC-BY-4.0", "MIT", "CC0-1.0", "CC-BY-NC-4.0")[i % 4],
            "tlp": "AMBER" if i % 50 == 0 else "CLEAR",
        },
        "status": "withdrawn" if i % 1000 == 0 else "accepted",
        "personal_info": "none",
        "eval_only": i % 113 == 0,
        "quality": {"score": (i % 100) / 100, "flags": flags},
        "lineage": {"root": f"src-{i // 4}"},
    }


def setup(db: Database, n: int) -> None:
    with db.write() as s:
        for k in range(3):
            s.add(OrgRow(id=f"o{k}", name=f"org-{k}"))
    for start in range(0, n, PAGE):
        batch = [Record.model_validate(record(i)) for i in range(start, min(n, start + PAGE))]
        with db.write() as s:
            add_records(s, batch, actor="bench")


def timed(label: str, n: int, fn: Callable[[], T], results: list[str]) -> tuple[T, float]:
    with peak_rss() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        value = fn()
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    results.append(
        f"{label:<22} {dt:8.2f} s wall {cpu:8.2f} s cpu {n / cpu:10.0f} rec/s (cpu)   "
        f"peak {mem['peak']:7.0f} MB (+{mem['peak'] - mem['start']:.0f})"
    )
    return value, cpu


def pyarrow_floor(files: list[Path], out: Path) -> float:
    """CPU seconds pyarrow alone takes to turn the exported rows (Python dicts, page by page) into
    columns and write them with the export's settings; making the dicts is not counted."""
    spent = 0.0
    with pq.ParquetWriter(out, SCHEMA, compression="zstd") as writer:
        for f in files:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=PAGE):
                rows = batch.to_pylist()
                t0 = time.process_time()
                writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
                spent += time.process_time() - t0
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="kept afterwards; a second run reuses its records",
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="qianmo-release-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    reuse = (work / "bench.db").exists()
    db = Database(f"sqlite:///{work / 'bench.db'}")
    if reuse:  # a --workdir kept from an earlier run with the same --n: skip the slow setup
        with db.read() as s:
            version = f"1.0.{s.query(ReleaseRow).count()}"
        print(f"setup: reusing {work / 'bench.db'}")
    else:
        upgrade(db)
        t0 = time.perf_counter()
        setup(db, args.n)
        version = "1.0.0"
        print(f"setup: {args.n} records stored in {time.perf_counter() - t0:.1f} s (not timed)")
    request = ReleaseRequest(
        name="bench", audience=Audience.parse(["members"]), use="commercial-training"
    )
    results: list[str] = []
    report, t_check = timed(
        "check (decide+audit)", args.n, lambda: check(db, request, actor="b"), results
    )
    n_out = len(report.members)
    req = report.request

    def split() -> None:
        assign_splits(report.members, seed=req.seed, fractions=req.fractions)

    _, t_split = timed("split", n_out, split, results)

    def build() -> dict[str, Any]:
        summary = summarise(report)
        summary["members_digest"] = table_digest(report.members)
        return _store(db, req, version, summary, report.members, actor="b")

    built, t_build = timed("build (snapshot+card)", n_out, build, results)

    out = work / "export"
    shutil.rmtree(out, ignore_errors=True)
    _, t_export = timed(
        "export parquet",
        n_out,
        lambda: export_release(db, f"bench@{version}", "parquet", out, secret=b"s"),
        results,
    )
    files = sorted((out / "data").glob("*.parquet"))
    with peak_rss() as mem:
        t_floor = pyarrow_floor(files, work / "floor.parquet")
    results.append(
        f"{'pyarrow floor':<22} {'':>15} {t_floor:8.2f} s cpu {n_out / t_floor:10.0f} rec/s (cpu)"
        f"   peak {mem['peak']:7.0f} MB (+{mem['peak'] - mem['start']:.0f})"
    )
    total = t_check + t_split + t_build + t_export
    print(f"{args.n} selected, {n_out} released; members digest {built['members_digest']}")
    print("\n".join(results))
    ours, floor = n_out / total, n_out / t_floor
    print(f"end to end (check+split+build+export): {total:.2f} s, {ours:.0f} rec/s")
    print(f"export alone: {n_out / t_export:.0f} rec/s = {t_floor / t_export:.1%} of the floor")
    print(
        f"pyarrow floor: {floor:.0f} rec/s · end to end / floor = {ours / floor:.1%} (target ≥ 50%)"
    )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
