"""The default pipeline's throughput per core and its peak memory at two corpus sizes.

Generates a mixed zh/en document corpus (with some PII, secrets and duplicates), loads it
into a fresh SQLite workspace a batch at a time and runs the default pipeline with the local
executor. Each size runs in its own process, so its peak resident memory is its own: the
kernel's high-water mark is reset once the corpus is loaded (Linux `clear_refs`), so it is
the runs' peak, not the loading's. Prints docs/s per core, that peak RSS and the driver's peak
Python memory (tracemalloc, on a third, untimed pass) at each size, so a flat memory profile
shows as ratios near 1. Rates are given on CPU time (this process's, which with one worker
holds all the work: steps, store reads and writes) and on wall time; on a shared machine only
the CPU figure says what the code costs.

    python bench/pipeline_bench.py [--sizes 10000,100000] [--workers 1]
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
import tracemalloc
from collections.abc import Iterator
from itertools import islice

import numpy as np

from qianmo.quality import RunOptions, default_pipeline, run_quality
from qianmo.standard import validate_record
from qianmo.store import Database, add_records, upgrade

WORDS = [
    "attacker",
    "remote",
    "code",
    "execution",
    "vulnerability",
    "server",
    "request",
    "payload",
    "exploit",
    "patch",
    "upgrade",
    "version",
    "library",
    "input",
    "validation",
    "injection",
    "memory",
    "buffer",
    "overflow",
    "kernel",
    "privilege",
    "escalation",
    "credential",
    "phishing",
    "malware",
    "ransomware",
    "lateral",
    "movement",
    "log",
]
HANZI = (
    "攻击者远程代码执行漏洞服务器请求载荷利用补丁升级版本"
    "输入验证注入内存缓冲区溢出内核权限提升凭据钓鱼恶意软件勒索横向移动日志"
)


def iter_docs(n: int, seed: int = 5) -> Iterator[dict[str, object]]:
    """The corpus, one document at a time."""
    rng = np.random.default_rng(seed)
    previous = ""
    for i in range(n):
        zh = i % 3 == 0
        if zh:
            text = "".join(rng.choice(list(HANZI), size=int(rng.integers(120, 400))))
            text = "，".join(text[j : j + 30] for j in range(0, len(text), 30)) + "。"
        else:
            text = " ".join(rng.choice(WORDS, size=int(rng.integers(80, 250)))) + "."
        if i % 50 == 0:
            text += " 联系电话13812345678" if zh else " contact admin@corp.example"
        if i % 97 == 0:
            text += "\naws_access_key_id = AKIAIOSFODNN7EXAMPLE"
        if i % 20 == 1 and previous:  # exact duplicates of an earlier document
            text = previous
        previous = text
        yield {
            "kind": "document",
            "lang": "zh" if zh else "en",
            "content": {"text": text},
            "source": {"name": f"bench-{i % 7}", "org": "org-a", "license": "CC-BY-4.0"},
        }


def _timed(db: Database, options: RunOptions) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run."""
    cpu, wall = time.process_time(), time.perf_counter()
    run_quality(db, options, actor="bench")
    return time.process_time() - cpu, time.perf_counter() - wall


def _reset_peak_rss() -> bool:
    """Restart the kernel's resident high-water mark here (Linux); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        upgrade(db)
        docs = iter_docs(n)
        while batch := list(islice(docs, 5000)):
            with db.write() as session:
                add_records(session, [validate_record(d) for d in batch], actor="b")
        options = RunOptions(pipeline=default_pipeline(), workers=workers, page_size=1000)
        reset = _reset_peak_rss()
        # first run: every record gains its score, hence one new version each (store writes
        # dominate); the rerun changes nothing, so it times the steps themselves
        first_cpu, first_wall = _timed(db, options)
        rerun_cpu, rerun_wall = _timed(db, options)
        rss = _peak_rss_mib()
        # peak memory of a third, traced pass (tracemalloc slows Python, so it is not timed)
        tracemalloc.start()
        run_quality(db, options, actor="bench")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.dispose()
    cpu_note = "CPU" if workers == 1 else "driver CPU (workers not counted)"
    rss_note = "" if reset else " (process peak: loading included)"
    print(
        f"{n:>7} docs: first run {n / first_cpu:6.0f} docs/s per core on {cpu_note} "
        f"({n / first_wall / workers:5.0f} on wall), rerun {n / rerun_cpu:6.0f} "
        f"({n / rerun_wall / workers:5.0f} on wall); {workers} worker(s); "
        f"peak RSS of the runs {rss:6.1f} MiB{rss_note}; "
        f"driver peak traced memory {peak / 2**20:6.1f} MiB",
        flush=True,
    )
    return {"first": n / first_cpu, "rss": rss, "traced": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.workers)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for n in sizes:  # each size in a fresh process: its memory figures are its own
        child = [sys.executable, __file__, "--one", str(n), "--workers", str(args.workers)]
        out = subprocess.run(child, check=True, stdout=subprocess.PIPE, text=True).stdout
        lines = out.strip().splitlines()
        print("\n".join(lines[:-1]), flush=True)
        results.append(json.loads(lines[-1]))
    first, last = results[0], results[-1]
    print(
        f"{sizes[-1]}/{sizes[0]} docs: peak RSS ratio {last['rss'] / first['rss']:.2f}, "
        f"peak traced memory ratio {last['traced'] / first['traced']:.2f}; "
        f"cores here: {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
