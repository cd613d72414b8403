"""web sessions and paged-filter indexes

Revision ID: web01
Revises: annotate01
Create Date: 2026-11-29 08:10:00

Server-side browser sessions (hashed ids, revocable), and (column, id) indexes for the
record columns lists filter on, replacing the single-column ones they cover.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web01"
down_revision: str | None = "annotate01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGED = ("status", "kind", "lang", "domain", "org", "tlp")


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    for column in PAGED:
        op.drop_index(f"ix_records_{column}", table_name="records")
        op.create_index(f"ix_records_{column}_id", "records", [column, "id"])


def downgrade() -> None:
    for column in PAGED:
        op.drop_index(f"ix_records_{column}_id", table_name="records")
        op.create_index(f"ix_records_{column}", "records", [column])
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
