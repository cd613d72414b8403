"""Create or upgrade a database schema with Alembic; the scripts ship inside the package."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from qianmo.store._db import Database


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("qianmo.store") / "migrations"))
    return cfg


def upgrade(db: Database) -> None:
    cfg = _config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def is_current(db: Database) -> bool:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current == head
