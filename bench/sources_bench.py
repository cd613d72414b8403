"""Source importers: objects/s over the shared samples, a generated STIX bundle, and the time of
a no-change re-sync relative to the first import.

    PYTHONPATH=src python bench/sources_bench.py [--shared ../shared/data] [--stix 50000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qianmo.ingest.sources import FORMATS, import_source
from qianmo.store import Database, upgrade

SAMPLES = {
    "cve": "cve",
    "kev": "kev/known_exploited_vulnerabilities.json",
    "cybermetric": "benchmarks/cybermetric/CyberMetric-80-v1.json",
    "seceval": "benchmarks/seceval/questions.json",
    "ctibench": "benchmarks/ctibench/cti-mcq.tsv",
    "cyberseceval": "benchmarks/cyberseceval/prompt_injection.json",
}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def read_rate(fmt: str, path: Path) -> tuple[int, float]:
    reader = FORMATS[fmt].reader
    items, secs = _timed(lambda: list(reader(path, {}, on_reject=lambda r: None)))
    return len(items), secs


def import_and_resync(fmt: str, path: Path, workdir: Path) -> tuple[int, float, float]:
    db = Database(f"sqlite:///{workdir / f'{fmt}.db'}")
    upgrade(db)
    first, t1 = _timed(lambda: import_source(db, fmt, [path], actor="bench"))
    _, t2 = _timed(lambda: import_source(db, fmt, [path], actor="bench"))
    db.dispose()
    return first.counts.read, t1, t2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'format':<14}{'objects':>9}{'read/s':>10}{'import/s':>10}{'resync %':>10}")
        for fmt, rel in SAMPLES.items():
            path = args.shared / rel
            if not path.exists():
                continue
            n, secs = read_rate(fmt, path)
            read, t1, t2 = import_and_resync(fmt, path, Path(tmp))
            print(f"{fmt:<14}{n:>9}{n / secs:>10.0f}{read / t1:>10.0f}{100 * t2 / t1:>9.1f}%")


if __name__ == "__main__":
    main()
