"""Source importers: objects/s over the shared samples and a generated STIX bundle, the time of a
no-change re-sync relative to the first import, and the generic ingest's rate on the same
documents for comparison.

    PYTHONPATH=src python bench/sources_bench.py [--shared ../shared/data] [--stix 50000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from qianmo.ingest import IngestOptions, ingest_file
from qianmo.ingest.sources import FORMATS, import_source
from qianmo.store import Database, RecordFilter, iter_records, upgrade

SAMPLES = {
    "cve": "cve",
    "nvd": "nvd",
    "kev": "kev/known_exploited_vulnerabilities.json",
    "attack": "attack/enterprise-sample-bundle.json",
    "cwe": "cwe/cwec_v4.14.excerpt.xml",
    "capec": "capec/capec-sample-bundle.json",
    "osv": "osv",
    "sigma": "sigma",
    "cybermetric": "benchmarks/cybermetric/CyberMetric-80-v1.json",
    "seceval": "benchmarks/seceval/questions.json",
    "ctibench": "benchmarks/ctibench/cti-mcq.tsv",
    "cyberseceval": "benchmarks/cyberseceval/prompt_injection.json",
}
TACTICS = [
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _id(kind: str, n: int) -> str:
    return f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, f'qianmo-bench/{kind}/{n}')}"


def _obj(kind: str, n: int, ext: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": _id(kind, n),
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2025-01-01T00:00:00.000Z",
        "name": name,
        "description": f"{name}: generated for the sources benchmark.",
        "external_references": [{"source_name": "mitre-attack", "external_id": ext}],
        **extra,
    }


def stix_bundle(total: int) -> dict[str, Any]:
    """A 2.1 bundle of `total` objects: tactics, techniques, mitigations, groups and the
    uses/mitigates relationships between them (about 10 % objects, 90 % relationships)."""
    objs = [
        _obj("x-mitre-tactic", i, f"TA{i:04d}", t.title(), x_mitre_shortname=t)
        for i, t in enumerate(TACTICS)
    ]
    n_tech, n_mit, n_grp = total // 20, total // 80, total // 80
    for i in range(n_tech):
        phase = {"kill_chain_name": "mitre-attack", "phase_name": TACTICS[i % len(TACTICS)]}
        objs.append(
            _obj(
                "attack-pattern",
                i,
                f"T{1000 + i:04d}",
                f"Technique {i}",
                kill_chain_phases=[phase],
                x_mitre_platforms=["Linux"],
            )
        )
    objs += [
        _obj("course-of-action", i, f"M{1000 + i:04d}", f"Mitigation {i}") for i in range(n_mit)
    ]
    objs += [_obj("intrusion-set", i, f"G{1000 + i:04d}", f"Group {i}") for i in range(n_grp)]
    n = 0
    while len(objs) < total:
        src, kind = (
            (_id("course-of-action", n % n_mit), "mitigates")
            if n % 3 == 0
            else (_id("intrusion-set", n % n_grp), "uses")
        )
        objs.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": _id("relationship", n),
                "created": "2024-01-01T00:00:00.000Z",
                "modified": "2024-01-01T00:00:00.000Z",
                "relationship_type": kind,
                "source_ref": src,
                "target_ref": _id("attack-pattern", (n * 7) % n_tech),
            }
        )
        n += 1
    return {"type": "bundle", "id": _id("bundle", 0), "objects": objs}


def fresh_db(workdir: Path, name: str) -> Database:
    db = Database(f"sqlite:///{workdir / f'{name}.db'}")
    upgrade(db)
    return db


def run_format(fmt: str, path: Path, workdir: Path) -> dict[str, float]:
    reader = FORMATS[fmt].reader
    items, read_s = _timed(lambda: list(reader(path, {}, on_reject=lambda r: None)))
    db = fresh_db(workdir, fmt)
    first, t1 = _timed(lambda: import_source(db, fmt, [path], actor="bench"))
    _, t2 = _timed(lambda: import_source(db, fmt, [path], actor="bench"))
    written = first.counts.added + first.counts.items_added
    generic = generic_rate(db, workdir, fmt) if FORMATS[fmt].family else float("nan")
    db.dispose()
    return {
        "objects": len(items),
        "read_per_s": len(items) / read_s,
        "import_per_s": len(items) / t1,
        "records_per_s": written / t1,
        "generic_records_per_s": generic,
        "resync_pct": 100 * t2 / t1,
    }


def generic_rate(db: Database, workdir: Path, fmt: str) -> float:
    """Records/s of the generic JSONL ingest on the same documents and items."""
    out = workdir / f"{fmt}-records.jsonl"
    with db.read() as s, out.open("wb") as f:
        n = 0
        for rec in iter_records(s, RecordFilter()):
            data = rec.to_json()
            data.pop("id")
            f.write(orjson.dumps(data) + b"\n")
            n += 1
    other = fresh_db(workdir, f"{fmt}-generic")
    _, secs = _timed(lambda: ingest_file(other, out, IngestOptions(format="jsonl"), actor="bench"))
    other.dispose()
    return n / secs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--stix", type=int, default=50_000, help="objects in the generated bundle")
    ap.add_argument("--only", default="", help="comma-separated formats (default: all)")
    args = ap.parse_args()
    only = {f for f in args.only.split(",") if f}
    header = ("format", "objects", "read/s", "import obj/s", "rec/s", "generic rec/s", "re-sync")
    print("{:<16}{:>9}{:>10}{:>14}{:>9}{:>15}{:>9}".format(*header))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        jobs = [(f, args.shared / rel) for f, rel in SAMPLES.items() if not only or f in only]
        if args.stix and (not only or "stix" in only):
            bundle = work / "generated.json"
            bundle.write_bytes(orjson.dumps(stix_bundle(args.stix)))
            jobs.append(("attack", bundle))
        for fmt, path in jobs:
            if not path.exists():
                continue
            r = run_format(fmt, path, work)
            label = fmt if path.name != "generated.json" else f"attack (gen {args.stix})"
            print(
                f"{label:<16}{r['objects']:>9.0f}{r['read_per_s']:>10.0f}"
                f"{r['import_per_s']:>14.0f}{r['records_per_s']:>9.0f}"
                f"{r['generic_records_per_s']:>15.0f}{r['resync_pct']:>8.1f}%"
            )


if __name__ == "__main__":
    main()
