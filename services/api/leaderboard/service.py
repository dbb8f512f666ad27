from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import NotFoundError
from services.api.leaderboard import repository
from services.api.leaderboard.schemas import Leaderboard, LeaderboardPeriod, LeaderboardRow
from shared.models import Community
from shared.models.base import utcnow


def period_start(period: LeaderboardPeriod, now: datetime) -> datetime | None:
    """The start of the current calendar period in UTC (weeks start on Monday, as ISO weeks
    do); None for all time."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    match period:
        case LeaderboardPeriod.week:
            return today - timedelta(days=today.weekday())
        case LeaderboardPeriod.month:
            return today.replace(day=1)
        case LeaderboardPeriod.quarter:
            return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        case LeaderboardPeriod.year:
            return today.replace(month=1, day=1)
        case LeaderboardPeriod.all:
            return None


async def leaderboard(
    session: AsyncSession, period: LeaderboardPeriod, community_id: int | None, limit: int
) -> Leaderboard:
    if community_id is not None and await session.get(Community, community_id) is None:
        raise NotFoundError("Community", community_id)
    since = period_start(period, utcnow())
    rows = await repository.top_earners(session, since=since, community_id=community_id,
                                        limit=limit)
    items = [LeaderboardRow(rank=rank, advocate_id=advocate_id, member_id=member_id, name=name,
                            points=points)
             for rank, (advocate_id, member_id, name, points) in enumerate(rows, start=1)]
    return Leaderboard(community_id=community_id, period=period, since=since, items=items)
