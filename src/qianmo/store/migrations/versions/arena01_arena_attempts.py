"""arena attempts

Revision ID: arena01
Revises: quality01
Create Date: 2026-11-29 05:17:11.023579
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'arena01'
down_revision: str | None = "quality01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('arena_attempts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=64), nullable=True),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('converters', sa.String(length=256), nullable=False),
    sa.Column('target', sa.String(length=256), nullable=False),
    sa.Column('defense_id', sa.String(length=128), nullable=False),
    sa.Column('prompt', sa.JSON(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('judge', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=256), nullable=False),
    sa.Column('blocked_by', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'key')
    )
    with op.batch_alter_table('arena_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_arena_attempts_campaign_kind', ['campaign_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_arena_attempts_record_id'), ['record_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('arena_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_arena_attempts_record_id'))
        batch_op.drop_index('ix_arena_attempts_campaign_kind')
    op.drop_table('arena_attempts')
