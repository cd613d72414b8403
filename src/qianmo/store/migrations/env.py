"""Alembic environment: runs on the connection qianmo hands it (see store/_migrate.py)."""

from __future__ import annotations

from alembic import context

import qianmo.store  # noqa: F401  (imports every table module, so autogenerate sees them)
from qianmo.store._models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` run by hand, e.g. to autogenerate a revision
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    connection = engine.connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
