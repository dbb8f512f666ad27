"""Housekeeping crons: rows that have served their purpose are deleted, so tables that grow with
every request stay small."""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col

from shared.db import session_scope
from shared.models import IdempotencyRecord
from shared.models.base import utcnow
from shared.settings import get_settings

log = logging.getLogger("hearth.worker.maintenance")


async def purge_idempotency_records(
    ctx: dict[str, Any] | None = None, *, now: datetime | None = None
) -> int:
    """Deletes the `Idempotency-Key` records older than the retention, in one DELETE (a retry
    after that runs as a new request). Returns how many went. A record claimed by a request still
    in flight is never that old, so no replay in progress loses its record."""
    cutoff = (now or utcnow()) - timedelta(hours=get_settings().idempotency_retention_hours)
    async with session_scope() as session:
        result = await session.exec(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff))
    log.info("%d idempotency records purged", result.rowcount)
    return result.rowcount
