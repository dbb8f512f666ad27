"""idempotency purge index: the hourly purge deletes idempotency records by age

Revision ID: 9e3b7d1c5a62
Revises: c5a1e7f3d208
Create Date: 2026-12-02 00:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '9e3b7d1c5a62'
down_revision: str | None = 'c5a1e7f3d208'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_idempotency_record_created_at', 'idempotency_record', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_idempotency_record_created_at', table_name='idempotency_record')
