"""event status: cancelling an event

Revision ID: c5a1e7f3d208
Revises: 7d2e5b8c4a19
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.models.base

revision: str = 'c5a1e7f3d208'
down_revision: str | None = '7d2e5b8c4a19'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table to add the check constraint; PostgreSQL alters it in
    # place. The server default makes every existing event scheduled, and keeps it so for rows
    # written by raw SQL (imports, benchmarks) that name no status.
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default='scheduled'))
        batch_op.add_column(sa.Column('cancelled_at',
                                      shared.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('cancel_reason',
                                      sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_event_cancelled_at_iff_cancelled'),
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_cancelled_at_iff_cancelled'), type_='check')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('status')
