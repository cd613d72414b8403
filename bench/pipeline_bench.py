"""The default pipeline's throughput per core and its peak memory at two corpus sizes.

Generates a mixed zh/en document corpus (with some PII, secrets and duplicates), loads it
into a fresh SQLite workspace and runs the default pipeline with the local executor. Prints
docs/s per core and the driver's peak Python memory (tracemalloc) at each size, so a flat
memory profile shows as a ratio near 1. Rates are given on CPU time (this process's, which
with one worker holds all the work: steps, store reads and writes) and on wall time; on a
shared machine only the CPU figure says what the code costs.

    python bench/pipeline_bench.py [--sizes 10000,100000] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc

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


def make_docs(n: int, seed: int = 5) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out: list[dict[str, object]] = []
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
        if i % 20 == 1 and out:  # exact duplicates of an earlier document
            text = str(out[-1]["content"]["text"])  # type: ignore[index]
        out.append(
            {
                "kind": "document",
                "lang": "zh" if zh else "en",
                "content": {"text": text},
                "source": {"name": f"bench-{i % 7}", "org": "org-a", "license": "CC-BY-4.0"},
            }
        )
    return out


def _timed(db: Database, options: RunOptions) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run."""
    cpu, wall = time.process_time(), time.perf_counter()
    run_quality(db, options, actor="bench")
    return time.process_time() - cpu, time.perf_counter() - wall


def run(n: int, workers: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        upgrade(db)
        docs = make_docs(n)
        for s in range(0, n, 5000):
            with db.write() as session:
                add_records(session, [validate_record(d) for d in docs[s : s + 5000]], actor="b")
        del docs
        options = RunOptions(pipeline=default_pipeline(), workers=workers, page_size=1000)
        # first run: every record gains its score, hence one new version each (store writes
        # dominate); the rerun changes nothing, so it times the steps themselves
        first_cpu, first_wall = _timed(db, options)
        rerun_cpu, rerun_wall = _timed(db, options)
        # peak memory of a third, traced pass (tracemalloc slows Python, so it is not timed)
        tracemalloc.start()
        run_quality(db, options, actor="bench")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.dispose()
    cpu_note = "CPU" if workers == 1 else "driver CPU (workers not counted)"
    print(
        f"{n:>7} docs: first run {n / first_cpu:6.0f} docs/s per core on {cpu_note} "
        f"({n / first_wall / workers:5.0f} on wall), rerun {n / rerun_cpu:6.0f} "
        f"({n / rerun_wall / workers:5.0f} on wall); {workers} worker(s); "
        f"driver peak traced memory {peak / 2**20:6.1f} MiB",
        flush=True,
    )
    return n / first_cpu, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    peaks = []
    for n in sizes:
        _, peak = run(n, args.workers)
        peaks.append(peak)
    print(
        f"peak memory ratio {sizes[-1]}/{sizes[0]} docs: {peaks[-1] / peaks[0]:.2f}; "
        f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
        f"cores here: {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
