"""ledger activity day: awards carry their activity's local day, and caps count by it

Revision ID: 4b8e2f6a9c31
Revises: 9e3b7d1c5a62
Create Date: 2026-12-04 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '4b8e2f6a9c31'
down_revision: str | None = '9e3b7d1c5a62'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('ledger_entry', sa.Column('activity_day', sa.Date(), nullable=True))
    # The awards already paid keep counting against their caps.
    op.execute("UPDATE ledger_entry SET activity_day = "
               "(SELECT local_day FROM activity WHERE activity.id = ledger_entry.activity_id) "
               "WHERE kind = 'award' AND activity_id IS NOT NULL")
    op.create_index('ix_ledger_incentive_advocate_day', 'ledger_entry',
                    ['incentive_id', 'advocate_id', 'activity_day'], unique=False,
                    postgresql_where=sa.text('activity_day IS NOT NULL'),
                    sqlite_where=sa.text('activity_day IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_ledger_incentive_advocate_day', table_name='ledger_entry',
                  postgresql_where=sa.text('activity_day IS NOT NULL'),
                  sqlite_where=sa.text('activity_day IS NOT NULL'))
    op.drop_column('ledger_entry', 'activity_day')
