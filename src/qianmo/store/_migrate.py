"""Create or upgrade a database schema with Alembic; the scripts ship inside the package."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from qianmo.store._db import Database

_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*['\"]?([\w.-]+|None)['\"]?", re.M)


def _config() -> Any:
    # Alembic (with mako and pygments) is imported only to migrate: every command opens the
    # workspace, and importing it just to compare one revision cost ~0.4 s of start-up.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("qianmo.store") / "migrations"))
    return cfg


def upgrade(db: Database) -> None:
    from alembic import command

    cfg = _config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration: the one no other script names as its `down_revision`."""
    revisions: set[str] = set()
    downs: set[str] = set()
    versions = resources.files("qianmo.store") / "migrations" / "versions"
    for script in versions.iterdir():
        if not script.name.endswith(".py"):
            continue
        found = dict(_REVISION.findall(script.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            downs.add(found.get("down_revision", "None"))
    heads = revisions - downs
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def is_current(db: Database) -> bool:
    try:
        with db.engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:  # no version table: a database that was never migrated
        return False
    return current == [head_revision()]
