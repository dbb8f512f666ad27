"""activity pending member: queue rows carry their member, and the worker's lanes claim by member shard

Revision ID: 6d1f3a8b2e47
Revises: 4b8e2f6a9c31
Create Date: 2026-12-04 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6d1f3a8b2e47'
down_revision: str | None = '4b8e2f6a9c31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('activity_pending', sa.Column('member_id', sa.Integer(), nullable=True))
    op.execute("UPDATE activity_pending SET member_id = "
               "(SELECT member_id FROM activity WHERE activity.id = activity_pending.activity_id)")
    with op.batch_alter_table('activity_pending') as batch:
        batch.alter_column('member_id', existing_type=sa.Integer(), nullable=False)
    # shared.activity_queue.SHARDS
    op.create_index('ix_activity_pending_shard', 'activity_pending',
                    [sa.text('(member_id % 8)'), 'activity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_activity_pending_shard', table_name='activity_pending')
    with op.batch_alter_table('activity_pending') as batch:
        batch.drop_column('member_id')
