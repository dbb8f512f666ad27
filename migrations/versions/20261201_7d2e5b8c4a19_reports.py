"""reports: stored report runs and schedules

Revision ID: 7d2e5b8c4a19
Revises: 3f6a9c2e1b74
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.models.base

revision: str = '7d2e5b8c4a19'
down_revision: str | None = '3f6a9c2e1b74'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SCHEDULED_ONLY = sa.text("trigger = 'schedule'")


def upgrade() -> None:
    op.create_table('report_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_report_run_community_id_community')),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_report_run_job_id_job')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff_user.id'], name=op.f('fk_report_run_requested_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_run')),
    sa.UniqueConstraint('job_id', name=op.f('uq_report_run_job_id'))
    )
    with op.batch_alter_table('report_run', schema=None) as batch_op:
        batch_op.create_index('ix_report_run_community_kind', ['community_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_run_trigger'), ['trigger'], unique=False)
        # Partial: only the schedule stores a period once (see shared/models/reports.py).
        batch_op.create_index('uq_report_run_scheduled_period',
                              ['kind', 'community_id', 'period_start', 'period_end', 'trigger'],
                              unique=True, postgresql_where=SCHEDULED_ONLY,
                              sqlite_where=SCHEDULED_ONLY)


def downgrade() -> None:
    with op.batch_alter_table('report_run', schema=None) as batch_op:
        batch_op.drop_index('uq_report_run_scheduled_period')
        batch_op.drop_index(batch_op.f('ix_report_run_trigger'))
        batch_op.drop_index('ix_report_run_community_kind')
    op.drop_table('report_run')
