"""`qianmo serve --workers N`: each server process builds the same app from the environment."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from qianmo.settings import get_settings
from qianmo.store import init_workspace
from qianmo.web import app_from_environment


def test_a_server_process_builds_its_app_from_the_environment(workspace_home: Path) -> None:
    init_workspace(get_settings()).dispose()
    app = app_from_environment()
    assert Path(app.state.settings.home) == workspace_home
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/login").status_code == 200
    app.state.db.dispose()
