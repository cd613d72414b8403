"""CPU per web request and per annotation label, measured in-process: numbers that hold on a
shared machine, where wall-clock latency moves with everyone else's load.

    PYTHONPATH=src python bench/web_cpu.py [--workspace DIR] [--rounds 4] [--requests 100]
        [--labels-only [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]]

The app is called straight over ASGI (no socket, no HTTP parsing: `bench/web_load.py` adds
those, about a millisecond a request on loopback), one request at a time, with its thread pool
and middleware as served. Printed: the process's CPU per request for each kind of request in
`bench/web_load.py`'s mix plus a static file (the floor), best of `--rounds`; then, per
label, claim → submit (two requests) and claim once then submit with `?next=true` (one
request per label, as `bench/annotate_load.py`'s annotators and the labelling page do), each
on a fresh campaign, over ASGI and through the service functions alone (the web layer's share
is the difference). `--labels-only` skips the first part; with `--pg-url` the labels run on
PostgreSQL (a scratch schema, dropped after), and each line also gives the database round trips
per label, counted in the driver (every statement, BEGIN, COMMIT, ROLLBACK and ping sent).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from annotate_load import _setup, label_database
from web_load import PASSWORD, WORDS_EN, WORDS_ZH, build_workspace

from qianmo.annotate import Task, claim, submit, submit_next
from qianmo.settings import Settings
from qianmo.store import Database
from qianmo.web import create_app

Headers = list[tuple[str, str]]
SECRET = "bench-secret-key-1234"


async def call(app: Any, method: str, url: str, headers: Headers = (), body: bytes = b"") -> Any:
    """One request through the ASGI app; (status, headers, body)."""
    path, _, query = url.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")] + [(k.encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    out: dict[str, Any] = {"body": b""}

    async def receive() -> Any:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], message["headers"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"]


def _cookie(headers: list[tuple[bytes, bytes]]) -> str:
    return next(v.decode() for k, v in headers if k == b"set-cookie").split(";")[0]


async def sign_in(app: Any) -> Headers:
    _, headers, body = await call(app, "GET", "/login")
    cookie = _cookie(headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', body.decode())
    assert token
    form = f"username=bench&password={PASSWORD}&csrf_token={token.group(1)}".encode()
    form_type = ("content-type", "application/x-www-form-urlencoded")
    status, headers, _ = await call(app, "POST", "/login", [("cookie", cookie), form_type], form)
    assert status == 303, status
    return [("cookie", _cookie(headers))]


async def per_request(home: Path, rounds: int, n: int) -> dict[str, float]:
    """CPU ms per request of each kind, best of `rounds` rounds of `n`."""
    app = create_app(Settings(home=home, secret_key=SECRET))
    api = [("authorization", f"Bearer {(home / 'bench-token').read_text().strip()}")]
    page = await sign_in(app)
    _, _, body = await call(app, "GET", "/api/v1/records?limit=200", api)
    ids = [item["id"] for item in orjson.loads(body)["items"]]
    rng = random.Random(3)
    words = WORDS_ZH + WORDS_EN[:3]
    kinds: dict[str, Callable[[], tuple[str, Headers]]] = {
        "static file": lambda: ("/static/qianmo.css", page),
        "page list": lambda: (f"/records?kind=document&lang={rng.choice(['en', 'zh'])}", page),
        "page search": lambda: (f"/records?q={rng.choice(words)}", page),
        "page record": lambda: (f"/records/{rng.choice(ids)}", page),
        "api list": lambda: ("/api/v1/records?limit=50", api),
        "api search": lambda: (f"/api/v1/search?q={rng.choice(words)}&limit=20", api),
        "api record": lambda: (f"/api/v1/records/{rng.choice(ids)}", api),
    }
    best: dict[str, float] = {}
    for _ in range(rounds):
        for label, make in kinds.items():
            for _ in range(5):  # warm: caches, prepared statements, the thread pool
                status, _, _ = await call(app, "GET", *make())
                assert status == 200, (label, status)
            start = time.process_time()
            for _ in range(n):
                await call(app, "GET", *make())
            cpu = (time.process_time() - start) * 1000 / n
            best[label] = min(best.get(label, cpu), cpu)
    return best


async def labels_over_asgi(
    db: Database, home: Path, tokens: dict[str, str], campaign: str, *, with_next: bool
) -> tuple[int, float]:
    """Round-robin over the annotators until the campaign is done: claim → submit, or (as
    the page and `bench/annotate_load.py` do) claim once, then submit with `?next=true`."""
    app = create_app(Settings(home=home, secret_key=SECRET), db=db)
    answer = orjson.dumps({"answers": {"correct": "yes"}})
    auths = {name: [("authorization", f"Bearer {token}")] for name, token in tokens.items()}
    json_type = ("content-type", "application/json")
    claim_url = f"/api/v1/annotate/campaigns/{campaign}/claim"
    held: dict[str, Any] = {}
    labels, start, busy = 0, time.process_time(), True
    while busy:
        busy = False
        for name, auth in auths.items():
            if name in held:
                task = held[name]
            else:
                _, _, body = await call(app, "POST", claim_url, auth)
                task = orjson.loads(body)["task"]
            if task is None:
                continue
            url = f"/api/v1/annotate/assignments/{task['assignment_id']}/submit"
            url += "?next=true" if with_next else ""
            status, _, body = await call(app, "POST", url, [*auth, json_type], answer)
            assert status == 200, status
            if with_next:
                held[name] = orjson.loads(body)["next"]
            labels, busy = labels + 1, True
    return labels, time.process_time() - start


def labels_in_service(
    db: Database, names: list[str], campaign: str, *, with_next: bool
) -> tuple[int, float]:
    held: dict[str, Task | None] = {}
    labels, start, busy = 0, time.process_time(), True
    while busy:
        busy = False
        for name in names:
            task = held[name] if name in held else claim(db, campaign, name)
            if task is None:
                continue
            if with_next:
                held[name] = submit_next(db, task.assignment_id, name, {"correct": "yes"}).task
            else:
                submit(db, task.assignment_id, name, {"correct": "yes"})
            labels, busy = labels + 1, True
    return labels, time.process_time() - start


class RoundTrips:
    """Messages psycopg sends that wait for the server: statements, its own BEGIN / COMMIT /
    ROLLBACK, and a pipeline (statements sent together, e.g. an audit entry with its COMMIT) or
    an `executemany` once. Counted by patching the driver's Python
    layer for the duration of `counting()`; SQLite runs count nothing."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def _add(self) -> None:
        with self._lock:
            self.count += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        import psycopg
        from psycopg import _connection_base

        base = _connection_base.BaseConnection
        execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany
        command, pipeline = base._exec_command, psycopg.Connection.pipeline

        def counted_execute(cur: Any, *a: Any, **kw: Any) -> Any:
            if not cur.connection._pipeline:  # a pipeline is counted once, when it syncs
                self._add()
            return execute(cur, *a, **kw)

        def counted_many(cur: Any, *a: Any, **kw: Any) -> Any:
            self._add()
            return executemany(cur, *a, **kw)

        def counted_command(conn: Any, *a: Any, **kw: Any) -> Any:
            if not conn._pipeline:
                self._add()
            return command(conn, *a, **kw)

        @contextmanager
        def counted_pipeline(conn: Any) -> Iterator[Any]:
            self._add()  # the statements in it and its sync: one round trip
            with pipeline(conn) as p:
                yield p

        psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = counted_many  # type: ignore[method-assign]
        base._exec_command = counted_command  # type: ignore[method-assign]
        psycopg.Connection.pipeline = counted_pipeline  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            psycopg.Cursor.execute, psycopg.Cursor.executemany = execute, executemany  # type: ignore[method-assign]
            base._exec_command = command  # type: ignore[method-assign]
            psycopg.Connection.pipeline = pipeline  # type: ignore[method-assign]


def per_label(tmp: Path, items: int, pg_url: str | None = None) -> None:
    """CPU (and database round trips) per label over ASGI and in the service, both ways,
    each on a fresh campaign."""
    trips = RoundTrips()
    for with_next in (False, True):
        home = tmp / f"annotate-{with_next}"
        with label_database(home, pg_url, secret_key=SECRET) as (db, _):
            tokens = _setup(db, items, 20)
            how = "claim once, submit?next" if with_next else "claim → submit"
            with trips.counting():
                trips.count = 0
                labels, cpu = asyncio.run(
                    labels_over_asgi(db, home, tokens, "http", with_next=with_next)
                )
                asgi_trips = trips.count
                trips.count = 0
                s_labels, s_cpu = labels_in_service(
                    db, list(tokens), "service", with_next=with_next
                )
                service_trips = trips.count
            extra = f", {asgi_trips / labels:4.1f} round trips" if pg_url else ""
            print(f"{how:<24} {labels} labels: {cpu * 1000 / labels:5.2f} ms CPU per label{extra}")
            extra = f", {service_trips / s_labels:4.1f} round trips" if pg_url else ""
            print(
                f"  the service alone:     {s_cpu * 1000 / s_labels:5.2f} ms CPU per label{extra}"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspace", type=Path, help="bench/web_load.py's workspace (reused).")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--labels-only", action="store_true", help="only the CPU per label")
    ap.add_argument("--pg-url", help="label on PostgreSQL (a scratch schema) instead of SQLite")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.workspace or Path(tmp) / "ws"
        if not args.labels_only:
            build_workspace(home, args.records)
            best = asyncio.run(per_request(home, args.rounds, args.requests))
            print(f"CPU per request in-process (best of {args.rounds} rounds of {args.requests}):")
            for label, ms in best.items():
                print(f"  {label:<12} {ms:5.2f} ms")
        per_label(Path(tmp), args.items, args.pg_url)


if __name__ == "__main__":
    main()
