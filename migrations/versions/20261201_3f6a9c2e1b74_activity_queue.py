"""activity queue: pending activities as a claimable queue table

Revision ID: 3f6a9c2e1b74
Revises: 0780993a7f2e
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3f6a9c2e1b74'
down_revision: str | None = '0780993a7f2e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
