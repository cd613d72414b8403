"""Arena campaign throughput: ~2,000 attempts against a planted server answering after 200 ms,
at concurrency 64. Prints attempts/s, the fraction of the ideal and CPU per attempt.

The ideal is what a perfect runner would take: every model call costs exactly the server's
delay, 64 at a time, so ideal = calls × 0.2 s / 64 (multi-turn attacks make one call per turn).
The server runs in its own process, as a real endpoint would. The timed contender is the whole
`qianmo arena campaign run` process — start-up, planning, converters, the target's defenses,
judging, storing attempts and the summary — on a workspace loaded beforehand (not timed).

    python bench/arena_bench.py
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DELAY, CONCURRENCY = 0.2, 64
CHAINS = [
    "none", "base64", "hex", "rot13", "leetspeak", "homoglyph", "zero_width", "roleplay",
    "hypothetical", "language_switch", "base64+roleplay", "hex+hypothetical",
    "leetspeak+roleplay", "homoglyph+language_switch", "zero_width+hypothetical",
    "rot13+roleplay", "roleplay+zero_width", "hypothetical+homoglyph",
]  # fmt: skip
SETUP = "from qianmo.cli import main; main()"
CALLS = """
import sys
from sqlalchemy import func, select
from qianmo.settings import get_settings
from qianmo.store import ArenaAttemptRow, open_workspace
with open_workspace(get_settings()).read() as s:
    print(s.execute(select(func.sum(ArenaAttemptRow.calls))).scalar_one())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int) -> None:
    for _ in range(1200):  # up to a minute: importing uvicorn is slow on a loaded machine
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("planted server did not start")


def children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def main() -> None:
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="arena-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "QIANMO_HOME": str(work / "ws")}
    qianmo = [sys.executable, "-c", SETUP]
    for step in (["init"], ["arena", "load", "--json"]):
        subprocess.run([*qianmo, *step], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "qianmo.arena._planted", str(port), str(DELAY)],
        stdout=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_for(port)
        run = [
            *qianmo, "arena", "campaign", "run", "bench",
            "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "planted",
            "--defense", "baseline", "--converters", ",".join(CHAINS), "--no-benign",
            "--concurrency", str(CONCURRENCY), "--no-cache", "--json",
        ]  # fmt: skip
        cpu0, started = children_cpu(), time.perf_counter()
        proc = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
        whole, cpu = time.perf_counter() - started, children_cpu() - cpu0
    finally:
        server.terminate()
        server.wait()
    if proc.returncode:
        raise SystemExit(f"campaign failed: {proc.stderr.strip()[-500:]}")
    summary = json.loads(proc.stdout)
    calls = int(subprocess.run([sys.executable, "-c", CALLS], env=env, capture_output=True,
                               text=True, check=True).stdout)  # fmt: skip
    attempts, campaign = summary["attempts"], summary["run"]["seconds"]
    ideal = calls * DELAY / CONCURRENCY
    print(
        f"attempts: {attempts} ({calls} model calls, {DELAY * 1000:.0f} ms each, "
        f"concurrency {CONCURRENCY}) · ideal {ideal:.2f} s"
    )
    print(f"campaign: {campaign:.2f} s · fraction of ideal {ideal / campaign:.3f}")
    print(
        f"whole process: {whole:.2f} s · {attempts / whole:.1f} attempts/s · "
        f"fraction of ideal {ideal / whole:.3f} · CPU {cpu / attempts * 1000:.2f} ms/attempt"
    )
    print(f"attack success rate against planted/baseline: {summary['asr']['rate']:.3f}")


if __name__ == "__main__":
    main()
