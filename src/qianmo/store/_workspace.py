"""The workspace: a folder with `qianmo.toml` and, by default, a SQLite database."""

from __future__ import annotations

from pathlib import Path

from qianmo.errors import QianmoError
from qianmo.settings import Settings
from qianmo.store._db import Database
from qianmo.store._migrate import is_current, upgrade

DEFAULT_TOML = """# qianmo workspace settings; QIANMO_* environment variables override these.
[qianmo]
# database_url = "postgresql+psycopg://user@127.0.0.1:5432/qianmo"

# Models for `qianmo eval run --model NAME`:
# [qianmo.models.local-qwen]
# base_url = "http://127.0.0.1:11434/v1"
# model = "qwen2.5:7b"
# api_key_env = "OLLAMA_API_KEY"
"""


def init_workspace(settings: Settings) -> Database:
    """Create the workspace folder and database, or upgrade an existing one."""
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    toml = home / "qianmo.toml"
    if not toml.exists():
        toml.write_text(DEFAULT_TOML, encoding="utf-8")
    db = Database(settings.db_url)
    upgrade(db)
    return db


def open_workspace(settings: Settings) -> Database:
    """The workspace's database, refusing one that does not exist or needs `qianmo init`."""
    if settings.database_url is None and not (settings.home / "qianmo.db").exists():
        raise QianmoError(
            f"no workspace at {Path(settings.home).resolve()}: run `qianmo init` "
            "(or set QIANMO_HOME)"
        )
    db = Database(settings.db_url)
    if not is_current(db):
        raise QianmoError("the workspace database is out of date: run `qianmo init` to upgrade it")
    return db
