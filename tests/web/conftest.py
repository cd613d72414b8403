from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qianmo.store import Database
from tests.helpers.accounts import make_world
from tests.helpers.live import LiveSite, serve_live
from tests.helpers.web import make_app


@pytest.fixture
def world(db: Database) -> dict[str, str]:
    return make_world(db)


@pytest.fixture
def app(db: Database, world: dict[str, str], tmp_path: Path) -> FastAPI:
    return make_app(db, tmp_path / "home")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # No DNS lookups leave the machine: only loopback resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": BROWSER_ARGS}


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The platform served by uvicorn in a thread, with a worker, on a seeded SQLite db."""
    with serve_live(tmp_path_factory.mktemp("live")) as site:
        yield site


@pytest.fixture(scope="session")
def base_url(live_site: LiveSite) -> str:
    return live_site.url
