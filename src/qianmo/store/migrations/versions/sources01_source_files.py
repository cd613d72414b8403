"""per-file state of source mirrors

Revision ID: sources01
Revises: fts01
Create Date: 2026-11-29 11:20:00

`qianmo sync` of a mirror folder (a cvelistV5 checkout, OSV advisories, Sigma rules) keeps each
file's modification time, size, SHA-256 and the original ids it held, so a re-sync reads only
the files that changed and still knows which objects the unchanged ones hold.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sources01"
down_revision: str | None = "fts01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_files",
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("mirror", sa.String(length=1024), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ids", sa.JSON(), nullable=False),
        sa.Column("import_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("format", "mirror", "path"),
    )


def downgrade() -> None:
    op.drop_table("source_files")
