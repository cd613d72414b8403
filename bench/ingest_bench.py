"""Ingest throughput and memory against the floor, on generated JSONL records.

    PYTHONPATH=src python bench/ingest_bench.py [--sizes 20000,200000]

For each size N: N generated records (qa, instruction, document, mixed English and Chinese)
in one JSONL file, imported by `qianmo ingest FILE` (the CLI, in-process, in a child process
of its own) into a fresh workspace; and the floor: orjson parsing of the same file plus one
bulk insert of the rows into the same `records` table of another fresh workspace. Prints
records/s of both, the ratio (target >= 0.5) and each child's peak RSS (memory should stay flat
from 20k to 200k rows).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

TOPICS = ["SQL injection", "XSS", "SSRF", "path traversal", "deserialisation", "CSRF"]
ZH = ["注入漏洞", "跨站脚本", "权限控制失效", "加密机制失效"]


def make_record(i: int) -> dict[str, object]:
    topic = TOPICS[i % len(TOPICS)]
    filler = f" Defence in depth, case {i}: validate input, encode output, least privilege."
    kind = ("qa", "instruction", "document")[i % 3]
    content: dict[str, object]
    if kind == "qa":
        content = {"question": f"How is {topic} #{i} exploited?", "answer": topic + filler * 3}
    elif kind == "instruction":
        content = {"instruction": f"Explain {ZH[i % len(ZH)]} {i}", "output": filler * 4}
    else:
        content = {"title": f"Advisory {i}", "text": (topic + filler) * 5}
    return {
        "kind": kind,
        "lang": "zh" if kind == "instruction" else "en",
        "content": content,
        "tags": [topic],
        "source": {"name": "bench", "original_id": f"b-{i}", "license": "CC-BY-4.0"},
    }


def generate(path: Path, n: int) -> None:
    with path.open("wb") as f:
        for i in range(n):
            f.write(orjson.dumps(make_record(i)) + b"\n")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ingest(path: Path) -> dict[str, float]:
    from qianmo.cli import app
    from qianmo.cli._common import err_console, run_app

    assert run_app(app, err_console, ["init"]) == 0
    start = time.perf_counter()
    code = run_app(app, err_console, ["ingest", str(path), "--json"])
    seconds = time.perf_counter() - start
    assert code == 0, code
    return {"seconds": seconds, "peak_mb": _peak_mb()}


def child_floor(path: Path) -> dict[str, float]:
    from sqlalchemy import insert

    from qianmo.settings import Settings
    from qianmo.standard import content_hash, new_id, utcnow
    from qianmo.store import RecordRow, init_workspace

    db = init_workspace(Settings())
    start = time.perf_counter()
    rows = []
    now = utcnow()
    with path.open("rb") as f:
        for line in f:
            d = orjson.loads(line)
            src = d["source"]
            rows.append(
                {
                    "id": new_id(),
                    "kind": d["kind"],
                    "lang": d["lang"],
                    "status": "raw",
                    "source_name": src["name"],
                    "original_id": src["original_id"],
                    "license": src["license"],
                    "tlp": "CLEAR",
                    "classification": "general",
                    "personal_info": "unknown",
                    "eval_only": False,
                    "content_hash": content_hash(d["kind"], d["content"]),
                    "version": 1,
                    "data": d,
                    "search_text": " ".join(str(v) for v in d["content"].values()),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    with db.write() as s:
        s.execute(insert(RecordRow), rows)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb()}


def run_child(mode: str, path: Path, home: Path) -> dict[str, float]:
    env = {**os.environ, "QIANMO_HOME": str(home)}
    env.pop("QIANMO_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, file = args.child
        fn = child_ingest if mode == "ingest" else child_floor
        result = fn(Path(file))
        sys.stdout.write("\n" + json.dumps(result) + "\n")
        return
    print(f"{'N':>8} {'ingest rec/s':>13} {'floor rec/s':>12} {'ratio':>6} "
          f"{'ingest peak MB':>15} {'floor peak MB':>14}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            data = Path(tmp) / f"bench-{n}.jsonl"
            generate(data, n)
            ing = run_child("ingest", data, Path(tmp) / f"ws-ingest-{n}")
            flo = run_child("floor", data, Path(tmp) / f"ws-floor-{n}")
            ing_rate, flo_rate = n / ing["seconds"], n / flo["seconds"]
            print(
                f"{n:>8} {ing_rate:>13,.0f} {flo_rate:>12,.0f} {ing_rate / flo_rate:>6.2f} "
                f"{ing['peak_mb']:>15.0f} {flo['peak_mb']:>14.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
