from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qianmo.store import Database
from tests.helpers.accounts import make_world
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
