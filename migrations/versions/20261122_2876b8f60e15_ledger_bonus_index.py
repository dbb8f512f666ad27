"""ledger bonus index: how many bonuses an incentive paid (first N), without scanning awards

Revision ID: 2876b8f60e15
Revises: d8b17c25107b
Create Date: 2026-11-22 03:34:58.971637
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '2876b8f60e15'
down_revision: str | None = 'd8b17c25107b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_bonus_incentive', ['incentive_id'], unique=False, postgresql_where=sa.text("kind = 'bonus'"), sqlite_where=sa.text("kind = 'bonus'"))


def downgrade() -> None:
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_bonus_incentive', postgresql_where=sa.text("kind = 'bonus'"), sqlite_where=sa.text("kind = 'bonus'"))
