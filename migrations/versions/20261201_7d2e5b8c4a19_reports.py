"""reports: stored report runs and schedules

Revision ID: 7d2e5b8c4a19
Revises: 3f6a9c2e1b74
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7d2e5b8c4a19'
down_revision: str | None = '3f6a9c2e1b74'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
