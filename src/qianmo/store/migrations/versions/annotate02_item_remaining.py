"""annotation items count their outstanding slots; slots are found by their lease

Revision ID: annotate02
Revises: web01
Create Date: 2026-11-29 08:10:00

`annotation_items.remaining`: slots of the active question versions not yet done, kept by
submits so that completing an item needs no recount; an index on the slots' lease.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "annotate02"
down_revision: str | None = "web01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("annotation_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("remaining", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("annotation_slots", schema=None) as batch_op:
        batch_op.create_index("ix_annotation_slots_assignment", ["assignment_id"], unique=False)
    op.execute(
        "UPDATE annotation_items SET remaining = (SELECT count(*) FROM annotation_slots s "
        "JOIN annotation_questions q ON q.id = s.question_id "
        "WHERE s.item_id = annotation_items.id AND q.active AND s.state <> 'done')"
    )


def downgrade() -> None:
    with op.batch_alter_table("annotation_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_annotation_slots_assignment")
    with op.batch_alter_table("annotation_items", schema=None) as batch_op:
        batch_op.drop_column("remaining")
