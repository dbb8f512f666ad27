from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.advocates.schemas import AdvocateStatus
from shared.ledger import LIFETIME_KINDS
from shared.models import Activity, Advocate, LedgerEntry, Member
from shared.models.enums import MemberStatus


async def top_earners(
    session: AsyncSession, *, since: datetime | None, community_id: int | None, limit: int
) -> list:
    """(advocate id, member id, name, points) by points earned, highest first. Of equal scores,
    the advocate who got there first (the earlier last entry) ranks higher, then the lower id."""
    earned = func.sum(LedgerEntry.points)
    query = (
        select(Advocate.id, Advocate.member_id, Member.name, earned)
        .join(Advocate, col(Advocate.id) == LedgerEntry.advocate_id)
        .join(Member, col(Member.id) == Advocate.member_id)
        .where(col(LedgerEntry.kind).in_(list(LIFETIME_KINDS)),
               Advocate.status == AdvocateStatus.active,
               Member.status != MemberStatus.banned,
               # Test accounts stay out of rankings as they stay out of metrics.
               col(Member.is_test).is_(False))
        .group_by(Advocate.id, Advocate.member_id, Member.name)
        .having(earned > 0)
        .order_by(earned.desc(), func.max(LedgerEntry.created_at), Advocate.id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(LedgerEntry.created_at >= since)
    if community_id is not None:
        entry_activity = col(Activity.id) == LedgerEntry.activity_id
        query = query.join(Activity, entry_activity).where(Activity.community_id == community_id)
    return list((await session.exec(query)).all())
