"""event status: cancelling an event

Revision ID: c5a1e7f3d208
Revises: 7d2e5b8c4a19
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c5a1e7f3d208'
down_revision: str | None = '7d2e5b8c4a19'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
