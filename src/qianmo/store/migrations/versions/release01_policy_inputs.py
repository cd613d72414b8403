"""records keep their release decision inputs as columns

Revision ID: release01
Revises: web02
Create Date: 2026-11-29 16:40:00

A release check read restrictions, quality flags and lineage out of every selected record's
JSON; parsing the documents was half of its CPU time. `policy_inputs` (what a decision reads of
them, as sorted JSON, NULL when empty) and `dup_cluster` are now written with the row, and
filled in here for the records already stored, a page at a time.
"""

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from alembic import op

from qianmo.store._policy import policy_inputs_of_json

revision: str = "release01"
down_revision: str | None = "web02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 5000


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("policy_inputs", sa.Text(), nullable=True))
        batch.add_column(sa.Column("dup_cluster", sa.String(length=256), nullable=True))
    records = sa.table(
        "records",
        sa.column("id", sa.String()),
        sa.column("data", sa.Text()),
        sa.column("policy_inputs", sa.Text()),
        sa.column("dup_cluster", sa.String()),
    )
    conn = op.get_bind()
    update = (
        sa.update(records)
        .where(records.c.id == sa.bindparam("b_id"))
        .values(policy_inputs=sa.bindparam("b_policy"), dup_cluster=sa.bindparam("b_cluster"))
    )
    after = ""
    while True:
        page = conn.execute(
            sa.select(records.c.id, sa.cast(records.c.data, sa.Text))
            .where(records.c.id > after)
            .order_by(records.c.id)
            .limit(PAGE)
        ).all()
        values = []
        for rid, text in page:
            policy, cluster = policy_inputs_of_json(orjson.loads(text))  # cast: text on both
            if policy is not None or cluster is not None:
                values.append({"b_id": rid, "b_policy": policy, "b_cluster": cluster})
        if values:
            conn.execute(update, values)
        if len(page) < PAGE:
            return
        after = page[-1][0]


def downgrade() -> None:
    # In place (SQLite has had DROP COLUMN since 3.35): a batch rebuild of `records` copies every
    # row and leaves out what it cannot reflect, the full-text index's triggers among them, so
    # search stopped following edits after a downgrade.
    op.drop_column("records", "dup_cluster")
    op.drop_column("records", "policy_inputs")
