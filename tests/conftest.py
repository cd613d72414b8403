from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Tests read what the CLI prints; rich wraps it at the terminal's width, which is whatever the
# shell that started pytest has. One width for every run.
os.environ["COLUMNS"] = "200"

from qianmo.cli import app
from qianmo.cli._common import err_console, run_app
from qianmo.settings import get_settings
from qianmo.store import Database
from tests.helpers.db import fresh_database, postgres_url, vacuum_catalogs

SHARED_DATA = Path(
    os.environ.get("QIANMO_SHARED_DATA")  # worktrees live elsewhere; point at the samples
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


@pytest.fixture(scope="session", autouse=True)
def _vacuumed_catalogs() -> Iterator[None]:
    yield
    if (url := postgres_url()) is not None:
        vacuum_catalogs(url)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """An empty migrated database: SQLite, or PostgreSQL when QIANMO_TEST_DATABASE_URL is set."""
    with fresh_database(tmp_path) as database:
        yield database


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def workspace_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A workspace folder the CLI uses (QIANMO_HOME), with fresh settings."""
    home = tmp_path / "ws"
    monkeypatch.setenv("QIANMO_HOME", str(home))
    monkeypatch.delenv("QIANMO_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def cli(workspace_home: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `qianmo ARGS…` in-process against the test workspace; returns code, stdout, stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = run_app(app, err_console, list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests using the `db` fixture are database tests: CI runs them again on PostgreSQL.
    for item in items:
        if "db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
