"""quality runs

Revision ID: quality01
Revises: 0100_eval
Create Date: 2026-11-29 05:07:42
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "quality01"
down_revision: str | None = "0100_eval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("executor", sa.String(length=16), nullable=False),
        sa.Column("pipeline", sa.JSON(), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("error", sa.String(length=4000), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quality_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_runs_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quality_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_runs_job_id"))
    op.drop_table("quality_runs")
