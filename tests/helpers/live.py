"""A live server for browser tests: uvicorn in a thread on a pre-bound loopback socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi.responses import HTMLResponse

from qianmo.standard import Record
from qianmo.store import Database, add_records, upgrade
from tests.helpers.accounts import make_world
from tests.helpers.records import make_record
from tests.helpers.web import make_app

XSS = "<img src=x onerror=alert(1)>"
CONTROL_PATH = "/_test/unescaped"


@dataclass
class LiveSite:
    url: str
    db: Database
    records: dict[str, Record]


def _seed(db: Database) -> dict[str, Record]:
    records = {
        "zh": make_record(
            "qa",
            lang="zh",
            domain="vuln.web",
            content={"question": "如何防御跨站脚本攻击？", "answer": "对输出进行转义。"},
        ),
        "xss": make_record(content={"title": "payload", "text": XSS}),
        "en": make_record("mcq", domain="threat.intel"),
        "hidden": make_record(
            content={"text": "strictly for org-c"}, source={"org": "org-c", "tlp": "AMBER+STRICT"}
        ),
    }
    with db.write() as s:
        add_records(s, list(records.values()), actor="seed")
    return records


def _control(app) -> None:  # type: ignore[no-untyped-def]
    """A page that embeds the payload unescaped and allows inline handlers: the negative
    control proving that the dialog check does catch a payload that runs."""

    @app.get(CONTROL_PATH, include_in_schema=False)
    def unescaped() -> HTMLResponse:
        csp = "default-src 'self' 'unsafe-inline'"
        return HTMLResponse(f"<p>{XSS}</p>", headers={"Content-Security-Policy": csp})


@contextmanager
def serve_live(home: Path) -> Iterator[LiveSite]:
    db = Database(f"sqlite:///{home / 'live.db'}")
    upgrade(db)
    make_world(db)
    records = _seed(db)
    app = make_app(db, home, run_worker=True)
    _control(app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveSite(f"http://127.0.0.1:{port}", db, records)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        db.dispose()
