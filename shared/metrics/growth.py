"""Growth over time (DESIGN.md section 4): per week or month, new members against active
members, and how much each active member does."""

from datetime import date, timedelta
from itertools import pairwise

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.metrics import queries
from shared.metrics.queries import Scope, Window, count_of
from shared.metrics.schemas import GrowthBucket, GrowthInterval, GrowthReport

EXPLANATION = (
    "Buckets are ISO weeks (Monday to Sunday) or calendar months in UTC, the first and last "
    "clipped to the period. New members: memberships begun in the bucket (for the whole "
    "program, a person's first). Active members: at least one activity in the bucket. "
    "Activities per active member = activities / active members. Banned, test and staff "
    "accounts are left out."
)


def bucket_starts(start: date, end: date, interval: GrowthInterval) -> list[date]:
    """The first day of every bucket from `start` to `end`, then the day after `end`."""
    starts = [start]
    while True:
        last = starts[-1]
        if interval is GrowthInterval.week:
            following = last + timedelta(days=7 - last.weekday())
        else:
            following = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
        if following > end:
            return [*starts, end + timedelta(days=1)]
        starts.append(following)


async def growth(session: AsyncSession, community_id: int | None, start: date, end: date,
                 interval: GrowthInterval) -> GrowthReport:
    scope = Scope.of(community_id)
    days = bucket_starts(start, end, interval)
    edges = [Window.of_dates(day, day).since for day in days]
    active = await queries.activity_buckets(session, scope, edges)
    joined = await queries.new_member_buckets(session, scope, edges)
    buckets = []
    for index, (first, following) in enumerate(pairwise(days)):
        activities = count_of(active.get(index), "rows")
        members = count_of(active.get(index), "members")
        buckets.append(GrowthBucket(
            start=first, end=following - timedelta(days=1),
            new_members=count_of(joined.get(index), "rows"), active_members=members,
            activities=activities,
            activities_per_active_member=round(activities / members, 2) if members else 0.0))
    return GrowthReport(community_id=community_id, start=start, end=end, interval=interval,
                        buckets=buckets, explanation=EXPLANATION)
