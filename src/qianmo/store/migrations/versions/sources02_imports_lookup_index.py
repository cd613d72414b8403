"""the latest import of an input, found by index

Revision ID: sources02
Revises: release01
Create Date: 2026-11-29 21:10:00

`qianmo ingest` and `qianmo sync` skip an input whose bytes the latest finished import of the
same format and file already read. That look-up filtered `imports` by format and file name,
which had no index: it read the whole table (9.2 ms at 100,000 imports on SQLite).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "sources02"
down_revision: str | None = "release01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_imports_format_file_created", "imports", ["format", "file_name", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_imports_format_file_created", table_name="imports")
