"""Arena campaign throughput: ~2,000 attempts against a planted server answering after 200 ms,
at concurrency 64. Prints attempts/s and the fraction of the ideal.

The ideal is what a perfect runner would take: every model call costs exactly the server's
delay, 64 at a time, so ideal = calls × 0.2 s / 64 (multi-turn attacks make one call per turn).
The server runs in its own process, as a real endpoint would; the measured time covers the
whole campaign: planning, converters, the target's defenses, judging and storing attempts.

    PYTHONPATH=src python bench/arena_bench.py
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

PROCESS_START = time.perf_counter()

from qianmo.arena import (  # noqa: E402 - the clock starts before the imports on purpose
    CampaignConfig,
    OpenAIChat,
    Target,
    benign_requests,
    library_attacks,
    load_library,
    resolve_defenses,
    run_campaign,
)
from qianmo.store import ArenaAttemptRow, Database, upgrade  # noqa: E402

DELAY, CONCURRENCY = 0.2, 64
CHAINS = [
    "none", "base64", "hex", "rot13", "leetspeak", "homoglyph", "zero_width", "roleplay",
    "hypothetical", "language_switch", "base64+roleplay", "hex+hypothetical",
    "leetspeak+roleplay", "homoglyph+language_switch", "zero_width+hypothetical",
    "rot13+roleplay", "roleplay+zero_width", "hypothetical+homoglyph",
]  # fmt: skip


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


def main() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "qianmo.arena._planted", str(port), str(DELAY)],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
            upgrade(db)
            attacks, benign = library_attacks(), benign_requests()
            load_library(db, attacks + benign, actor="bench")
            config = CampaignConfig(
                name="bench", converters=CHAINS, concurrency=CONCURRENCY, limit=None
            )
            config.benign = []  # 111 attacks × 18 chains = 1,998 attempts
            backend = OpenAIChat(f"http://127.0.0.1:{port}/v1", "planted")
            target = Target(backend, resolve_defenses(["baseline"])[0])
            started = time.perf_counter()
            summary = asyncio.run(run_campaign(db, config, [target], actor="bench"))
            elapsed = time.perf_counter() - started
            with db.read() as s:
                calls = s.execute(select(func.sum(ArenaAttemptRow.calls))).scalar_one()
            db.dispose()
    finally:
        server.terminate()
        server.wait()
    whole = time.perf_counter() - PROCESS_START
    attempts = summary["attempts"]
    ideal = calls * DELAY / CONCURRENCY
    print(
        f"attempts: {attempts} ({calls} model calls, {DELAY * 1000:.0f} ms each, "
        f"concurrency {CONCURRENCY})"
    )
    print(f"campaign: {elapsed:.2f} s · {attempts / elapsed:.1f} attempts/s · ideal {ideal:.2f} s")
    print(f"fraction of ideal (campaign): {ideal / elapsed:.3f}")
    print(f"whole process: {whole:.2f} s · fraction of ideal {ideal / whole:.3f}")
    print(f"attack success rate against planted/baseline: {summary['asr']['rate']:.3f}")


if __name__ == "__main__":
    main()
