"""`qianmo serve --workers N`: each server process builds the same app from the environment."""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from qianmo.cli._listeners import balanced_listeners_supported, listeners
from qianmo.settings import get_settings
from qianmo.store import init_workspace
from qianmo.web import app_from_environment


def test_a_server_process_builds_its_app_from_the_environment(workspace_home: Path) -> None:
    init_workspace(get_settings()).dispose()
    gc.unfreeze()  # other tests in this process (the CLI's start) may have frozen objects
    try:
        assert gc.get_freeze_count() == 0
        app = app_from_environment()
        # ready to serve: the routes prepared (the OpenAPI schema built from them, kept for
        # /openapi.json) and the start-up objects out of the collector's scans
        assert app.openapi_schema is not None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert Path(app.state.settings.home) == workspace_home
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/login").status_code == 200
        served = client.get("/api/v1/openapi.json").json()
    assert served == app.openapi_schema
    app.state.db.dispose()


needs_balanced = pytest.mark.skipif(
    not balanced_listeners_supported(), reason="SO_REUSEPORT balancing is Linux's"
)


@needs_balanced
def test_each_server_process_gets_a_socket_and_the_kernel_spreads_connections() -> None:
    socks = listeners("127.0.0.1", 0, 2)
    try:
        port = socks[0].getsockname()[1]
        assert socks[1].getsockname()[1] == port
        for s in socks:
            s.listen(64)
            s.setblocking(False)
        accepted = [0, 0]
        for _ in range(40):
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
            for i, s in enumerate(socks):
                try:
                    s.accept()[0].close()
                    accepted[i] += 1
                except BlockingIOError:
                    pass
        assert sum(accepted) == 40
        assert min(accepted) > 0  # both queues get connections (all 40 on one: 2^-39)
    finally:
        for s in socks:
            s.close()


@needs_balanced
def test_a_taken_port_is_refused_with_its_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            listeners("127.0.0.1", port, 2)


def test_serve_with_two_processes_answers_and_stops(workspace_home: Path) -> None:
    """The real command: two server processes, their own sockets, many connections answered,
    and SIGTERM ends them all."""
    init_workspace(get_settings()).dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "QIANMO_HOME": str(workspace_home), "QIANMO_SECRET_KEY": "k" * 32}
    cmd = [sys.executable, "-c", "from qianmo.cli import main; main()", "serve"]
    cmd += ["--port", str(port), "--workers", "2", "--no-worker"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        for _ in range(20):  # new connections each time, spread over the processes
            assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        # Ended by the signal, cleanly or by it: not still running, not a crash of its own.
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
