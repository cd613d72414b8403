"""Annotation load: simulated annotators labelling at once, with the floor beside it.

    PYTHONPATH=src python bench/annotate_load.py [--items 300] [--sqlite-annotators 20]
        [--pg-annotators 50] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--no-pg] [--no-sqlite] [--no-http]

For each database (the embedded SQLite default, then PostgreSQL) four runs on one workspace:

  cold     `qianmo serve` just started, its first campaign: connections to the database are
           opened and caches filled while the annotators wait (otherwise as http).
  http     `qianmo serve` in its own process, in use (after `cold`); each annotator is an HTTP
           client on loopback with its own API token. It claims once, then POSTs each submit
           with `?next=true`, which stores the labels and claims its next item in the same
           transaction and returns it:
           one request per label, as the labelling page and API clients work in steady state
           (the peer's setting: Label Studio 1.23, 16 labels/s from 20 clients, p50 1.07 s,
           p95 2.63 s, and it over-assigned).
  service  the same loop as threads calling `claim` once, then `submit_next`, in this process
           (what the routes call): the web layer's share is the difference.
  floor    a bare claim on the same database in the same run: select a free row of a copy of
           the slots table and mark it, one transaction, nothing else.

It also prints the CPU the server process and the clients spent per label over HTTP (on a
shared machine wall-clock rates move with the load; CPU per label much less).
BENCH_SERVER_CMD=script.py replaces `qianmo serve` (given the port), e.g. by a profiling wrapper.

Printed: labels/s, p50/p95 of one label (a submit-with-next; each annotator's first claim is
not timed), the ratio to the floor and to Label Studio's 16 labels/s, and over-assignment
(items with more than k labels, a person twice on an item), which must be 0. Targets (issue #9):
>= 160 labels/s with p95 <= 250 ms on SQLite with 20 annotators, better on PostgreSQL with 50
(the same thresholds are checked for PostgreSQL; "met" is printed for cold and http runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import func, select, text

# The server is started, stopped and its CPU read as by the web bench (this folder is on
# sys.path when the script runs).
from web_load import server_cpu_s, start_server, stop_server

from qianmo.annotate import claim, create_campaign, parse_config, parse_spec, submit_next
from qianmo.settings import Settings
from qianmo.standard import new_id, validate_record
from qianmo.store import (
    AnnotationLabelRow,
    CampaignRow,
    Database,
    MembershipRow,
    OrgRow,
    UserRow,
    add_records,
    create_token,
    init_workspace,
    scratch_schema,
)

K = 3
ANSWER = {"answers": {"correct": "yes"}}
PEER_RATE = 16.0  # Label Studio 1.23, labels/s from 20 concurrent clients (issue #9)
TARGET_RATE, TARGET_P95_MS = 160.0, 250.0


def _setup(db: Database, items: int, people: int) -> dict[str, str]:
    """Records, annotators (with API tokens) and two campaigns over the same records."""
    records = [
        validate_record(
            {
                "kind": "qa",
                "lang": "en",
                "content": {"question": f"What is item {n}?", "answer": "An answer."},
                "source": {
                    "name": "bench",
                    "org": "org",
                    "license": "CC-BY-4.0",
                    "tlp": "CLEAR",
                },
            }
        )
        for n in range(items)
    ]
    tokens = {}
    with db.write() as s:
        add_records(s, records, actor="bench")
        org = OrgRow(id=new_id(), name="org")
        s.add(org)
        s.flush()
        for n in range(people):
            user = UserRow(id=new_id(), name=f"ann{n:02d}")
            s.add(user)
            s.flush()
            s.add(MembershipRow(user_id=user.id, org_id=org.id, role="annotator"))
            s.flush()
            tokens[user.name] = create_token(s, user.name, actor="bench")[1]
    config = parse_config(filters=["source=bench"], overlap=K, gold_rate=0.0)
    for name in ("cold", "http", "service"):
        create_campaign(db, name, [parse_spec("correct:choice[yes,no]")], config, actor="bench")
    return tokens


def _threads(fns: list[Callable[[list[float]], None]]) -> tuple[float, list[float]]:
    latencies: list[list[float]] = [[] for _ in fns]
    workers = [
        threading.Thread(target=f, args=(lat,)) for f, lat in zip(fns, latencies, strict=True)
    ]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start, [x for lat in latencies for x in lat]


def _annotator(db: Database, who: str) -> Callable[[list[float]], None]:
    def work(lat: list[float]) -> None:
        task = claim(db, "service", who)
        while task is not None:
            t0 = time.perf_counter()
            task = submit_next(db, task.assignment_id, who, {"correct": "yes"}).task
            lat.append(time.perf_counter() - t0)

    return work


BARE_CLAIM = {
    "sqlite": "SELECT item_id, question_id, slot FROM bare_slots WHERE state = 'free' LIMIT 1",
    "postgresql": "SELECT item_id, question_id, slot FROM bare_slots WHERE state = 'free' "
    "LIMIT 1 FOR UPDATE SKIP LOCKED",
}


def _bare(db: Database) -> Callable[[list[float]], None]:
    def work(lat: list[float]) -> None:
        while True:
            t0 = time.perf_counter()
            with db.write() as s:
                row = s.execute(text(BARE_CLAIM[db.dialect])).first()
                if row is None:
                    return
                s.execute(
                    text(
                        "UPDATE bare_slots SET state = 'done' WHERE item_id = :i "
                        "AND question_id = :q AND slot = :n"
                    ),
                    {"i": row[0], "q": row[1], "n": row[2]},
                )
            lat.append(time.perf_counter() - t0)

    return work


async def _http_annotators(
    url: str, tokens: dict[str, str], each: list[float], campaign: str = "http"
) -> tuple[float, list[float]]:
    """Labels/s and every label's latency; `each` gets each annotator's mean latency."""
    latencies: list[float] = []
    # aiohttp, not httpx: the clients share the 2-core machine with the server, and httpx
    # spent 9.1 ms of CPU per label (two requests) — at 160 labels/s, 1.5 cores for the
    # clients alone. Idle connections are dropped before uvicorn's 5 s keep-alive closes them:
    # under load a client could otherwise send on a connection the server is closing.
    connector = aiohttp.TCPConnector(limit=len(tokens) + 5, keepalive_timeout=2)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:

        async def one(token: str) -> None:
            auth = {"Authorization": f"Bearer {token}"}
            claim_url = f"/api/v1/annotate/campaigns/{campaign}/claim"
            async with client.post(claim_url, headers=auth) as r:
                r.raise_for_status()
                task = (await r.json())["task"]
            mine: list[float] = []
            while task is not None:
                t0 = time.perf_counter()
                url = f"/api/v1/annotate/assignments/{task['assignment_id']}/submit?next=true"
                async with client.post(url, headers=auth, json=ANSWER) as r:
                    r.raise_for_status()
                    task = (await r.json())["next"]
                mine.append(time.perf_counter() - t0)
            latencies.extend(mine)
            if mine:
                each.append(sum(mine) / len(mine))

        start = time.perf_counter()
        await asyncio.gather(*(one(t) for t in tokens.values()))
        return time.perf_counter() - start, latencies


def _http_route_exists(url: str) -> bool:
    spec = httpx.get(f"{url}/api/v1/openapi.json", timeout=10).json()
    return "/api/v1/annotate/campaigns/{name}/claim" in spec.get("paths", {})


def _over(db: Database, campaign: str) -> tuple[int, int]:
    """Items with more than k labels; (item, person) pairs with more than one label."""
    with db.read() as s:
        cid = s.execute(select(CampaignRow.id).where(CampaignRow.name == campaign)).scalar_one()
        mine = AnnotationLabelRow.campaign_id == cid
        over = s.execute(
            select(func.count()).select_from(
                select(AnnotationLabelRow.item_id)
                .where(mine)
                .group_by(AnnotationLabelRow.item_id)
                .having(func.count() > K)
                .subquery()
            )
        ).scalar_one()
        twice = s.execute(
            select(func.count()).select_from(
                select(AnnotationLabelRow.item_id)
                .where(mine)
                .group_by(AnnotationLabelRow.item_id, AnnotationLabelRow.annotator_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    return over, twice


def _postgres_cpu_s() -> float:
    """CPU time used so far by PostgreSQL's processes on this machine (its server backends
    included): on a shared box the database's share of a label is part of its cost."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:  # the process ended meanwhile
            continue
        if head.endswith("(postgres"):
            fields = tail.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _line(what: str, elapsed: float, lat: list[float], floor: float | None) -> float:
    rate = len(lat) / elapsed
    extra = (
        f"   {rate / floor:5.3f} of floor   {rate / PEER_RATE:5.1f}× Label Studio" if floor else ""
    )
    print(
        f"  {what:8} {rate:7.1f} labels/s   p50 {_pct(lat, 0.5):7.1f} ms   "
        f"p95 {_pct(lat, 0.95):7.1f} ms{extra}"
    )
    return rate


def bench(
    db: Database,
    home: Path,
    db_url: str | None,
    label: str,
    items: int,
    people: int,
    *,
    http: bool,
) -> None:
    tokens = _setup(db, items, people)
    with db.write() as s:
        s.execute(
            text(
                "CREATE TABLE bare_slots AS SELECT item_id, question_id, slot, state "
                "FROM annotation_slots WHERE campaign_id = (SELECT id FROM campaigns "
                "WHERE name = 'service')"
            )
        )
    print(f"{label}: {people} annotators, {items} items × k={K}")
    results = {}
    server_cpu = client_cpu = database_cpu = 0.0
    each: list[float] = []  # each HTTP annotator's mean latency: how fair the server's queue is
    if http:
        proc, url = start_server(home, None, {"QIANMO_DATABASE_URL": db_url} if db_url else None)
        try:
            if _http_route_exists(url):
                # The same campaign once on the server as it starts: its first requests open
                # database connections and warm caches in every server process. The http run
                # after it is the server in use; both are printed.
                results["cold"] = asyncio.run(_http_annotators(url, tokens, [], "cold"))
                cpu0, client0 = server_cpu_s(proc.pid), time.process_time()
                database0 = _postgres_cpu_s()
                results["http"] = asyncio.run(_http_annotators(url, tokens, each))
                server_cpu = server_cpu_s(proc.pid) - cpu0
                database_cpu = _postgres_cpu_s() - database0
                client_cpu = time.process_time() - client0
            else:
                print("  http     skipped: this build has no /api/v1/annotate routes")
        finally:
            stop_server(proc)
    results["service"] = _threads([_annotator(db, n) for n in tokens])
    floor_elapsed, floor_lat = _threads([_bare(db) for _ in tokens])
    floor = len(floor_lat) / floor_elapsed
    for what, (elapsed, lat) in results.items():
        rate = _line(what, elapsed, lat, floor)
        over, twice = _over(db, what)
        print(
            f"           items over k: {over} · same person twice: {twice} · "
            f"labels {len(lat)}/{items * K}"
        )
        if what != "service":
            met = rate >= TARGET_RATE and _pct(lat, 0.95) <= TARGET_P95_MS
            print(
                f"           target (>= {TARGET_RATE:.0f}/s, p95 <= {TARGET_P95_MS:.0f} ms): "
                f"{'met' if met else 'not met'}"
            )
    _line("floor", floor_elapsed, floor_lat, None)
    if "http" in results:
        labels = len(results["http"][1])
        print(
            f"  CPU per label over HTTP: server {server_cpu / labels * 1000:.1f} ms, "
            f"clients {client_cpu / labels * 1000:.1f} ms"
            + (f", PostgreSQL {database_cpu / labels * 1000:.1f} ms" if not db.is_sqlite else "")
        )
        print(
            f"  annotators' mean latency over HTTP: fastest {_pct(each, 0):.0f} ms, "
            f"median {_pct(each, 0.5):.0f} ms, slowest {_pct(each, 1):.0f} ms"
        )


@contextmanager
def label_database(
    home: Path, pg_url: str | None, **settings: Any
) -> Iterator[tuple[Database, Settings]]:
    """A fresh workspace: SQLite in `home`, or a scratch PostgreSQL schema dropped after."""
    if pg_url is None:
        config = Settings(home=home, **settings)
        db = init_workspace(config)
        try:
            yield db, config
        finally:
            db.dispose()
        return
    with scratch_schema(pg_url, "bench") as schema:
        url = f"{pg_url}?options=-csearch_path%3D{schema},public"
        config = Settings(home=home, database_url=url, **settings)
        db = init_workspace(config)
        try:
            yield db, config
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--sqlite-annotators", type=int, default=20)
    parser.add_argument("--pg-annotators", type=int, default=50)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    runs = [] if args.no_sqlite else [(None, "SQLite (embedded default)", args.sqlite_annotators)]
    if not args.no_pg:
        runs.append((args.pg_url, "PostgreSQL", args.pg_annotators))
    for pg_url, title, annotators in runs:
        with tempfile.TemporaryDirectory() as tmp, label_database(Path(tmp), pg_url) as (db, cfg):
            bench(
                db,
                Path(tmp),
                cfg.database_url,
                title,
                args.items,
                annotators,
                http=not args.no_http,
            )


if __name__ == "__main__":
    main()
