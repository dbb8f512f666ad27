"""The end of suspensions: a cron returns members whose suspension has passed to active and
records it in their moderation history. It is one conditional UPDATE, so a second run (or a
second worker) finds nothing left to do, and a member reinstated or banned meanwhile is left
alone."""

import logging
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select

from shared.db import session_scope
from shared.models import Member, ModerationAction
from shared.models.base import utcnow
from shared.models.enums import MemberStatus

log = logging.getLogger("hearth.worker.moderation")

SUSPENSION_ENDED = "suspension_ended"


async def end_suspensions(ctx: dict[str, Any] | None = None) -> int:
    """Returns how many suspensions ended now."""
    now = utcnow()
    async with session_scope() as session:
        due = dict((await session.exec(
            select(Member.id, Member.suspended_until)
            .where(Member.status == MemberStatus.suspended,
                   col(Member.suspended_until) <= now)
            .with_for_update(skip_locked=True)
        )).all())
        if not due:
            return 0
        ended = (await session.exec(
            update(Member)
            .where(col(Member.id).in_(list(due)), Member.status == MemberStatus.suspended,
                   col(Member.suspended_until) <= now)
            .values(status=MemberStatus.active, suspended_until=None, updated_at=now)
            .returning(Member.id)
        )).scalars().all()
        if ended:
            await session.exec(insert(ModerationAction), params=[
                {"member_id": member_id, "action": SUSPENSION_ENDED, "until": due[member_id],
                 "note": "The suspension ran out.", "previous_status": MemberStatus.suspended,
                 "new_status": MemberStatus.active, "created_at": now}
                for member_id in sorted(ended)])
    log.info("%d suspensions ended", len(ended))
    return len(ended)
