"""failed sign-ins shared by every server process

Revision ID: web02
Revises: sources01
Create Date: 2026-11-29 12:35:00

The login limit counted failures in each process's memory, so `qianmo serve --workers N` let
N times as many guesses through; the failures now live in the database, keyed by address and
by user name, and every process counts the same rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web02"
down_revision: str | None = "sources01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
