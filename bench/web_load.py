"""Web platform under load: `qianmo serve` (a separate process, on loopback) over a workspace
of 100,000 records; an open-loop load at a fixed rate over the records list, search and record
pages and the API; p50/p95/p99 and errors; then the highest rate held with p95 <= 100 ms.

    PYTHONPATH=src python bench/web_load.py [--records 100000] [--rate 100] [--seconds 30]
                                            [--workspace DIR]   # build once, reuse after

The peer (issue #6): Label Studio 1.23 answered its task list at 100,000 tasks in p50 98 ms /
p95 341 ms on this kind of machine. Target: p95 <= 50 ms at 100 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from qianmo.settings import Settings
from qianmo.standard import validate_record
from qianmo.store import (
    add_records,
    configure_password_hashing,
    create_org,
    create_token,
    create_user,
    init_workspace,
)

ORGS = ["qianmo-lab", "red-sec", "blue-cert", "campus-ctf", "cloud-guard"]
TLPS = ["CLEAR", "CLEAR", "GREEN", "GREEN", "AMBER", "AMBER+STRICT"]
WORDS_EN = [
    "sql",
    "injection",
    "cross",
    "site",
    "scripting",
    "buffer",
    "overflow",
    "phishing",
    "ransomware",
    "lateral",
]
WORDS_ZH = ["跨站脚本", "注入攻击", "缓冲区溢出", "钓鱼邮件", "勒索软件", "横向移动", "漏洞利用"]
PASSWORD = "bench-password-123"
MAX_IN_FLIGHT = 100  # open loop, but bounded: beyond this a request counts as an error


def _record(i: int, rng: random.Random) -> dict[str, object]:
    zh = i % 3 == 0
    words = " ".join(rng.choices(WORDS_ZH if zh else WORDS_EN, k=12))
    return {
        "kind": "document",
        "lang": "zh" if zh else "en",
        "domain": rng.choice(["vuln.web", "threat.intel", "ops", "appsec", "net"]),
        "content": {"title": f"note {i}", "text": f"advisory {i}: {words}"},
        "source": {
            "name": "bench",
            "org": rng.choice(ORGS),
            "license": "CC-BY-4.0",
            "tlp": rng.choice(TLPS),
            "original_id": f"b-{i}",
        },
    }


def build_workspace(home: Path, n: int) -> str:
    """A workspace with `n` records, the demo's organisations and a bench user; its token.

    A workspace already built there (with its token file) is reused and upgraded.
    """
    configure_password_hashing(time_cost=1, memory_cost_kib=1024)
    token_file = home / "bench-token"
    if token_file.exists():
        init_workspace(Settings(home=home)).dispose()  # applies new migrations
        return token_file.read_text().strip()
    db = init_workspace(Settings(home=home))
    rng = random.Random(7)
    with db.write() as s:
        for org in ORGS:
            create_org(s, org, actor="bench", partners=["qianmo-lab"] if org == "red-sec" else [])
        create_user(s, "bench", actor="bench", password=PASSWORD, org="red-sec", role="viewer")
        _, token = create_token(s, "bench", actor="bench", read_only=True)
    start, batch = time.perf_counter(), 5000
    for lo in range(0, n, batch):
        recs = [validate_record(_record(i, rng)) for i in range(lo, min(n, lo + batch))]
        with db.write() as s:
            add_records(s, recs, actor="bench", action="ingest")
    print(f"workspace: {n} records in {time.perf_counter() - start:.0f} s")
    db.dispose()
    token_file.write_text(token)
    return token


def start_server(
    home: Path, workers: int | None, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`qianmo serve` on a free loopback port, in a process group of its own (its server
    processes go with it: `stop_server`); BENCH_SERVER_CMD names a wrapper script to run
    instead (e.g. a profiler), which gets the port as its argument."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "QIANMO_HOME": str(home), "QIANMO_SECRET_KEY": "bench-secret-key-1234"}
    env.update(extra_env or {})
    cmd = [sys.executable, "-c", "from qianmo.cli import main; main()", "serve"]
    cmd += ["--port", str(port), "--no-worker"]
    cmd += ["--workers", str(workers)] if workers else []
    if os.environ.get("BENCH_SERVER_CMD"):
        cmd = [sys.executable, os.environ["BENCH_SERVER_CMD"], str(port)]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # its server processes go with it (stop_server)
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # server processes import everything; slow when loaded
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("the server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def sign_in(client: httpx.AsyncClient) -> None:
    page = (await client.get("/login")).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    data = {"username": "bench", "password": PASSWORD, "csrf_token": csrf.group(1)}
    response = await client.post("/login", data=data)
    assert response.status_code == 303, response.text


KINDS = ["page list", "page search", "page record", "api list", "api search", "api record"]


def request_mix(
    ids: list[str], token: str, rng: random.Random, choice: int | None = None
) -> tuple[str, str, dict[str, str]]:
    """(label, path, headers): pages with the session cookie, the API with a token."""
    api = {"Authorization": f"Bearer {token}"}
    choice = rng.randrange(len(KINDS)) if choice is None else choice
    rid = rng.choice(ids)
    word = rng.choice(WORDS_ZH + WORDS_EN[:3])
    return [
        ("page list", f"/records?kind=document&lang={rng.choice(['en', 'zh'])}", {}),
        ("page search", f"/records?q={word}", {}),
        ("page record", f"/records/{rid}", {}),
        ("api list", "/api/v1/records?limit=50", api),
        ("api search", f"/api/v1/search?q={word}&limit=20", api),
        ("api record", f"/api/v1/records/{rid}", api),
    ][choice]


async def aiohttp_sign_in(client: aiohttp.ClientSession) -> None:
    async with client.get("/login") as r:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', await r.text())
    assert csrf
    data = {"username": "bench", "password": PASSWORD, "csrf_token": csrf.group(1)}
    async with client.post("/login", data=data, allow_redirects=False) as r:
        assert r.status == 303, await r.text()


async def run_load(
    url: str, token: str, ids: list[str], rate: float, seconds: float
) -> tuple[list[float], int, dict[str, list[float]]]:
    """Open loop: request k starts at k/rate whatever happened to earlier ones.

    The client is aiohttp: it shares the 2 cores with the server, and httpx spent several
    times its CPU per request (bench/annotate_load.py: 9.1 against 1.0 ms per two requests).
    """
    rng = random.Random(11)
    latencies: list[float] = []
    by_label: dict[str, list[float]] = {}
    errors = 0
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    timeout = aiohttp.ClientTimeout(total=10)
    jar = aiohttp.CookieJar(unsafe=True)  # the session cookie of a bare IP address (loopback)
    async with aiohttp.ClientSession(
        url, connector=connector, timeout=timeout, cookie_jar=jar
    ) as client:
        await aiohttp_sign_in(client)
        in_flight = 0

        async def one(label: str, path: str, headers: dict[str, str]) -> None:
            nonlocal errors, in_flight
            start = time.perf_counter()
            try:
                async with client.get(path, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            finally:
                in_flight -= 1
            ms = (time.perf_counter() - start) * 1000
            if ok:
                latencies.append(ms)
                by_label.setdefault(label, []).append(ms)
            else:
                errors += 1

        tasks = []
        t0 = time.perf_counter()
        for k in range(int(rate * seconds)):
            delay = t0 + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight >= MAX_IN_FLIGHT:  # bounded: a backlog counts as errors
                errors += 1
                continue
            in_flight += 1
            tasks.append(asyncio.create_task(one(*request_mix(ids, token, rng))))
        await asyncio.gather(*tasks)
    return latencies, errors, by_label


def server_cpu_s(pgid: int) -> float:
    """CPU time (user + system) used so far by the server's processes (its process group)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def sequential(
    url: str, token: str, ids: list[str], pgid: int, n: int = 60
) -> dict[str, tuple[float, float]]:
    """One request at a time, each kind in turn: p50 wall ms and the server's CPU ms per request.

    The floor is a static file through the whole middleware stack, so a loaded machine shows
    as a slow floor, not a slow app; the server's CPU per request hardly moves with the load.
    """
    rng = random.Random(5)
    out: dict[str, tuple[float, float]] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await sign_in(client)
        kinds = [("floor", lambda: ("floor", "/static/qianmo.css", {}))] + [
            (label, lambda i=i: request_mix(ids, token, rng, i)) for i, label in enumerate(KINDS)
        ]
        for label, make in kinds:
            (await client.get(make()[1], headers=make()[2])).raise_for_status()  # warm
            times = []
            cpu0 = server_cpu_s(pgid)
            for _ in range(n):
                _, path, headers = make()
                start = time.perf_counter()
                (await client.get(path, headers=headers)).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            out[label] = (pct(times, 50), (server_cpu_s(pgid) - cpu0) * 1000 / n)
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def sample_ids(home: Path, token: str, url: str) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"}
    ids: list[str] = []
    after = ""
    for _ in range(20):
        page = httpx.get(
            f"{url}/api/v1/records",
            params={"limit": 200, "after": after},
            headers=headers,
            timeout=30,
        ).json()
        ids += [i["id"] for i in page["items"]]
        after = page["next_after"]
        if not after:
            break
    return ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--step-seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, help="Server processes (default: serve's).")
    ap.add_argument("--workspace", type=Path, help="Keep (and reuse) the workspace here.")
    ap.add_argument(
        "--sequential-only", action="store_true", help="Only one request at a time (no load)."
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.workspace or Path(tmp) / "ws"
        token = build_workspace(home, args.records)
        proc, url = start_server(home, args.workers)
        try:
            ids = sample_ids(home, token, url)
            seq = asyncio.run(sequential(url, token, ids, proc.pid))
            floor = seq["floor"][0]
            print("\none at a time (p50 wall; the server's CPU per request):")
            for label, (ms, cpu) in seq.items():
                print(
                    f"  {label:<11}p50 {ms:6.1f} ms  ({ms / floor:.1f}x the floor)  "
                    f"server CPU {cpu:5.1f} ms"
                )
            if args.sequential_only:
                return
            cpu0, client0 = server_cpu_s(proc.pid), time.process_time()
            lat, errors, by_label = asyncio.run(run_load(url, token, ids, args.rate, args.seconds))
            sent = max(1, len(lat) + errors)
            cpu = (server_cpu_s(proc.pid) - cpu0) * 1000 / sent
            client_cpu = (time.process_time() - client0) * 1000 / sent
            print(
                f"\nopen loop {args.rate:.0f} req/s for {args.seconds:.0f} s over "
                f"{args.records} records: {len(lat)} ok, {errors} errors"
            )
            print(
                f"  all        p50 {pct(lat, 50):6.1f} ms  p95 {pct(lat, 95):6.1f} ms  "
                f"p99 {pct(lat, 99):6.1f} ms"
            )
            print(f"  CPU per request: server {cpu:.1f} ms, client {client_cpu:.1f} ms")
            for label, values in sorted(by_label.items()):
                print(f"  {label:<11}p50 {pct(values, 50):6.1f} ms  p95 {pct(values, 95):6.1f} ms")
            print(
                f"  p95 vs target 50 ms: {pct(lat, 95) / 50:.2f}x; "
                f"vs Label Studio's 341 ms: {pct(lat, 95) / 341:.2f}x"
            )
            best = 0.0
            for rate in (25, 50, 75, 100, 150, 200, 300):
                lat, errors, _ = asyncio.run(run_load(url, token, ids, rate, args.step_seconds))
                p95 = pct(lat, 95)
                print(f"  {rate:4d} req/s: p95 {p95:7.1f} ms, errors {errors}")
                if p95 > 100 or errors:
                    break
                best = rate
            print(f"highest rate with p95 <= 100 ms and no errors: {best:.0f} req/s")
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
