"""Source importers: objects/s over the shared samples and a generated STIX bundle, against the
generic ingest's rate for documents of the same text sizes, and the time of a no-change re-sync.

    PYTHONPATH=src python bench/sources_bench.py [--shared ../shared/data] [--stix 50000]
        [--only kev,stix] [--profile DIR]

Each format runs in a child process of its own (so its peak RSS is its own) on a fresh SQLite
workspace: the first import (`import_source`, what `qianmo sync` runs), a re-sync of the same
bytes (skipped by the input digest), and a forced re-sync (`sync --full`: every object parsed
and compared with the stored one). The floor, in the same child: one generated JSONL `document`
per record the import wrote, with that record's text and its refs, tags, domain and dates (a
document of the same size: the same row, whose ids and tags the search index reads too; the
search index's cost depends on the words; `--filler` gives generated words of the same length
instead, as the first version of this bench did; `--text-only` leaves the metadata out, as the
bench did up to the sixth session), through the generic ingest (`ingest_file`) into another
fresh workspace.

The unit of the comparison is records written per CPU second. An upstream object writes its
`document` and 2–14 derived `qa`/`mcq` items, each a full row (records, record_versions, search
index) like a generic document, so records — derived ones included — are the work both sides do;
objects/s is printed too but cannot be compared with one document per row. Times are CPU
seconds of the child (user + system, `time.process_time`): the machine is shared, so wall time
(printed for the first import only) measures the neighbours as much as the code.

Printed per importer: objects, records, the first import's CPU and wall seconds, objects/s and
records/s (CPU), the floor's records/s (CPU), `vs floor` = records/s ÷ floor (target ≥ 1.00),
the same-bytes re-sync, a re-sync after one file of a mirror folder changed (`1 file`) and the
`--full` re-sync as a percentage of the first import's CPU time (target ≤ 10 %) and the import's
peak RSS. `--cvelist N` adds a generated cvelistV5-shaped mirror of N CVE files. With
`--profile`, each first import is also run under cProfile and its stats dumped to
DIR/FORMAT.prof.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from qianmo.ingest import IngestOptions, ingest_file
from qianmo.ingest.sources import FORMATS, import_source
from qianmo.standard import Record
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
MIN_CPU_S, MAX_REPEATS = 2.0, 20
RESYNC_REPEATS = 10
# Folders of one object per file (kept here, not read from the code, so the bench runs on
# code from before per-file sync too)
MIRRORS = {"cve": (".json",), "osv": (".json",), "sigma": (".yml", ".yaml")}
WORDS = [
    "adversary",
    "exploit",
    "payload",
    "mitigation",
    "telemetry",
    "lateral",
    "credential",
    "beacon",
]


def _settled() -> None:
    """Collect before a timed run, so no full collection owed by earlier work lands inside it.

    The bench repeats imports and their floors in one process, and a full pass over its heap
    (~90 ms at ~190,000 objects) fell inside one of the ATT&CK sample's 20 timed floor runs on
    `main` and in none on a branch that allocated a little less, moving the floor's mean by
    ~4.5 ms a run (~13 %) either way: a ratio that said more about where the collector ran
    than about either importer (gc.callbacks; docs/sources.md#performance)."""
    gc.collect()


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """The result and the CPU seconds of this process (user + system) it took: the machine is
    shared, so wall time measures the neighbours as much as us. SQLite runs in-process, so its
    work and its syscalls are counted too; waiting for the disk is not."""
    _settled()
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def _timed_wall(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    _settled()
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - start


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def stix_objects(total: int) -> Iterator[dict[str, Any]]:
    """`total` STIX 2.1 objects: tactics, techniques, mitigations, groups and the
    uses/mitigates relationships between them (about 8 % objects, 92 % relationships)."""
    for i, t in enumerate(TACTICS):
        yield _obj("x-mitre-tactic", i, f"TA{i:04d}", t.title(), x_mitre_shortname=t)
    n_tech, n_mit, n_grp = total // 20, total // 80, total // 80
    for i in range(n_tech):
        phase = {"kill_chain_name": "mitre-attack", "phase_name": TACTICS[i % len(TACTICS)]}
        yield _obj(
            "attack-pattern",
            i,
            f"T{1000 + i:04d}",
            f"Technique {i}",
            kill_chain_phases=[phase],
            x_mitre_platforms=["Linux"],
        )
    for i in range(n_mit):
        yield _obj("course-of-action", i, f"M{1000 + i:04d}", f"Mitigation {i}")
    for i in range(n_grp):
        yield _obj("intrusion-set", i, f"G{1000 + i:04d}", f"Group {i}")
    for n in range(total - len(TACTICS) - n_tech - n_mit - n_grp):
        mitigates = n % 3 == 0
        yield {
            "type": "relationship",
            "spec_version": "2.1",
            "id": _id("relationship", n),
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "relationship_type": "mitigates" if mitigates else "uses",
            "source_ref": _id("course-of-action", n % n_mit)
            if mitigates
            else _id("intrusion-set", n % n_grp),
            "target_ref": _id("attack-pattern", (n * 7) % n_tech),
        }


def write_bundle(path: Path, total: int) -> None:
    """The bundle written object by object, so the bench itself stays small in memory."""
    with path.open("wb") as f:
        f.write(b'{"type": "bundle", "id": "' + _id("bundle", 0).encode() + b'", "objects": [\n')
        for n, obj in enumerate(stix_objects(total)):
            f.write((b",\n" if n else b"") + orjson.dumps(obj))
        f.write(b"\n]}\n")


def fresh_db(workdir: Path, name: str) -> Database:
    db = Database(f"sqlite:///{workdir / f'{name}.db'}")
    upgrade(db)
    return db


def _filler(i: int, size: int) -> str:
    head = f"Floor document {i}. "
    words: list[str] = []
    length = len(head)
    while length < size:
        words.append(WORDS[(i + len(words)) % len(WORDS)])
        length += len(words[-1]) + 1
    return (head + " ".join(words))[: max(size, len(head))]


def _metadata(rec: Record) -> dict[str, Any]:
    """The record's refs, tags, domain and dates, as a generic document states them."""
    out: dict[str, Any] = {"refs": rec.refs.model_dump(mode="json"), "tags": list(rec.tags)}
    if rec.domain:
        out["domain"] = rec.domain
    for key in ("published_at", "valid_as_of"):
        if getattr(rec, key) is not None:
            out[key] = getattr(rec, key).isoformat()
    return out


def floor_rate(
    db: Database, workdir: Path, name: str, filler: bool, text_only: bool = False
) -> tuple[int, float]:
    """Documents/s of the generic JSONL ingest on one document per record `db` holds, each
    with that record's own text (documents of the same size and the same words).

    With `filler`, the text is generated words of the same length, as the first version of this
    bench did: the search index (FTS5 trigrams) costs per distinct trigram, and eight repeated
    words have few, so that floor ran 1.6× faster on SecEval's questions than on their text.
    """

    def text(n: int, rec: Record) -> str:
        return _filler(n, len(rec.text())) if filler else rec.text()

    out = workdir / f"{name}-floor.jsonl"
    n = 0
    with db.read() as s, out.open("wb") as f:
        for n, rec in enumerate(iter_records(s, RecordFilter()), start=1):
            doc = {
                "kind": "document",
                "lang": "en",
                "content": {"title": f"Floor {n}", "text": text(n, rec)},
                "source": {"name": "floor", "original_id": f"floor-{n}", "license": "CC0-1.0"},
                # the record's own metadata too: a document of the same size is the same row,
                # whose ids and tags the search index also reads
                **({} if text_only else _metadata(rec)),
            }
            f.write(orjson.dumps(doc) + b"\n")
    secs = _repeated(
        workdir,
        f"{name}-floor",
        lambda db: ingest_file(db, out, IngestOptions(format="jsonl"), actor="bench"),
    )
    return n, n / secs


def _repeated(workdir: Path, name: str, fn: Callable[[Database], Any]) -> float:
    """Mean CPU seconds of `fn` on fresh workspaces, repeated until MIN_CPU_S have passed (at
    most MAX_REPEATS times): a sample of 9 objects imports in 0.1 s, where one run's ratio
    to the floor moved between 0.25 and 1.2 from run to run."""
    total, runs = 0.0, 0
    while runs < MAX_REPEATS and (runs == 0 or total < MIN_CPU_S):
        db = fresh_db(workdir, f"{name}-{runs}")
        total += _timed(lambda: fn(db))[1]  # noqa: B023  (called before db changes)
        db.dispose()
        runs += 1
    return total / runs


def run_format(
    fmt: str,
    path: Path,
    workdir: Path,
    profile: Path | None,
    filler: bool = False,
    text_only: bool = False,
) -> dict[str, float]:
    reader = FORMATS[fmt].reader
    mirror = fmt in MIRRORS and path.is_dir()
    if mirror:  # a copy: one of its files is changed below
        path = Path(shutil.copytree(path, workdir / f"{fmt}-mirror"))
    objects, read_s = _timed(lambda: sum(1 for _ in reader(path, {}, on_reject=lambda r: None)))
    db = fresh_db(workdir, fmt)
    _, once, wall = _timed_wall(lambda: import_source(db, fmt, [path], actor="bench"))
    peak = _peak_mb()
    t1 = once
    if once < MIN_CPU_S:  # a small sample: the mean of repeated first imports
        t1 = _repeated(workdir, fmt, lambda d: import_source(d, fmt, [path], actor="bench"))
    # a same-bytes re-sync of a small sample takes a few ms: one run's share of the first
    # import moved between 4 and 15 % from run to run, so the mean of several (each one is
    # the same skip: it only adds an import row)
    resyncs = 1 if t1 >= MIN_CPU_S else RESYNC_REPEATS
    t2 = (
        sum(
            _timed(lambda: import_source(db, fmt, [path], actor="bench"))[1] for _ in range(resyncs)
        )
        / resyncs
    )
    forced, t3 = _timed(lambda: import_source(db, fmt, [path], actor="bench", force=True))
    assert forced.counts.added == forced.counts.updated == 0, forced.counts
    t4 = _one_file_changed(db, fmt, path) if mirror else float("nan")
    records, floor = floor_rate(db, workdir, fmt, filler, text_only)
    db.dispose()
    if profile is not None:
        other = fresh_db(workdir, f"{fmt}-profile")
        prof = cProfile.Profile()
        prof.runcall(import_source, other, fmt, [path], actor="bench")
        prof.dump_stats(profile / f"{fmt}.prof")
        other.dispose()
    return {
        "objects": objects,
        "records": records,
        "read_per_s": objects / read_s,
        "import_per_s": objects / t1,
        "records_per_s": records / t1,
        "floor_per_s": floor,
        "resync_same_pct": 100 * t2 / t1,
        "resync_full_pct": 100 * t3 / t1,
        "resync_one_pct": 100 * t4 / t1,
        "first_s": t1,
        "first_wall_s": wall,
        "peak_mb": peak,
    }


def _one_file_changed(db: Database, fmt: str, folder: Path) -> float:
    """CPU seconds of a re-sync after one file of a mirror folder changed its bytes (a line
    added at its end: read, hashed, parsed and compared; its record stays as it was)."""
    first = next(p for p in sorted(folder.rglob("*")) if p.suffix in MIRRORS[fmt])
    first.write_bytes(first.read_bytes() + b"\n")
    result, secs = _timed(lambda: import_source(db, fmt, [folder], actor="bench"))
    assert result.counts.added == result.counts.updated == 0, result.counts
    return secs


def write_cvelist(folder: Path, samples: Path, total: int) -> None:
    """A cvelistV5-shaped mirror of `total` CVE JSON 5 files: the shared samples again and again
    under new ids (CVE-2099-…), in the checkout's year/thousands folders."""
    files = sorted(samples.glob("*.json"))
    for i in range(total):
        data = orjson.loads(files[i % len(files)].read_bytes())
        cve_id = f"CVE-2099-{10000 + i}"
        data["cveMetadata"]["cveId"] = cve_id
        out = folder / "2099" / f"{(10000 + i) // 1000}xxx" / f"{cve_id}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(orjson.dumps(data))


def child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = run_format(
            args.child, Path(args.path), Path(tmp), args.profile, args.filler, args.text_only
        )
    print(json.dumps(result))


def jobs(args: argparse.Namespace, work: Path) -> Iterator[tuple[str, str, Path]]:
    only = {f for f in args.only.split(",") if f}
    if args.stix and (not only or "stix" in only):
        bundle = work / "generated.json"
        write_bundle(bundle, args.stix)
        yield f"attack (gen {args.stix // 1000}k)", "attack", bundle
    if args.cvelist and (not only or "cvelist" in only) and (args.shared / "cve").is_dir():
        write_cvelist(work / "cvelist", args.shared / "cve", args.cvelist)
        yield f"cve (gen {args.cvelist // 1000}k files)", "cve", work / "cvelist"
    for fmt, rel in SAMPLES.items():
        if (not only or fmt in only) and (args.shared / rel).exists():
            yield fmt, fmt, args.shared / rel


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--stix", type=int, default=50_000, help="objects in the generated bundle")
    ap.add_argument("--cvelist", type=int, default=5000, help="files in the generated CVE mirror")
    ap.add_argument(
        "--only", default="", help="comma-separated formats, `stix`, `cvelist` (default: all)"
    )
    ap.add_argument("--profile", type=Path, default=None, help="dump cProfile stats here")
    ap.add_argument("--filler", action="store_true", help="floor texts of generated words")
    ap.add_argument(
        "--text-only", action="store_true", help="floor documents without the records' metadata"
    )
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    ap.add_argument("--path", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(HEADER)
    with tempfile.TemporaryDirectory() as tmp:
        for label, fmt, path in jobs(args, Path(tmp)):
            cmd = [sys.executable, __file__, "--child", fmt, "--path", str(path)]
            if args.profile:
                cmd += ["--profile", str(args.profile)]
            if args.filler:
                cmd += ["--filler"]
            if args.text_only:
                cmd += ["--text-only"]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            print(row(label, json.loads(out.strip().splitlines()[-1])), flush=True)


# rec/s and floor/s are records written per CPU second; vs floor = rec/s ÷ floor/s, the
# importer's ratio against the generic ingest (target ≥ 1.00).
HEADER = (
    f"{'format':<18}{'obj':>6}{'rec':>7}{'cpu s':>8}{'wall s':>8}{'obj/s':>7}{'rec/s':>7}"
    f"{'floor/s':>8}{'vs floor':>9}{'re-sync':>9}{'1 file':>8}{'--full':>8}{'RSS MB':>7}"
)


def _pct(value: float) -> str:
    return "-" if value != value else f"{value:.1f}%"  # NaN: not a mirror folder


def row(label: str, r: dict[str, float]) -> str:
    return (
        f"{label:<18}{r['objects']:>6.0f}{r['records']:>7.0f}{r['first_s']:>8.1f}"
        f"{r['first_wall_s']:>8.1f}{r['import_per_s']:>7.0f}{r['records_per_s']:>7.0f}"
        f"{r['floor_per_s']:>8.0f}{r['records_per_s'] / r['floor_per_s']:>8.2f}×"
        f"{r['resync_same_pct']:>8.1f}%{_pct(r['resync_one_pct']):>8}{r['resync_full_pct']:>7.1f}%"
        f"{r['peak_mb']:>7.0f}"
    )


if __name__ == "__main__":
    main()
