from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_sorted
from shared.models import Advocate, Tier


async def list_tiers(session: AsyncSession, params: PageParams) -> list[Tier]:
    query = paginate_sorted(select(Tier), params, sort="min_lifetime_points",
                            column=Tier.min_lifetime_points, id_column=Tier.id)
    return list((await session.exec(query)).scalars().all())


async def find_clash(
    session: AsyncSession, tier_id: int | None, *, name: str | None, min_points: int | None
) -> Tier | None:
    """Another tier with this name or this threshold (both are unique)."""
    query = select(Tier).where(
        (Tier.name == name) | (Tier.min_lifetime_points == min_points))
    if tier_id is not None:
        query = query.where(Tier.id != tier_id)
    return (await session.exec(query.limit(1))).scalars().first()


async def count_holders(session: AsyncSession, tier_id: int) -> int:
    query = select(func.count()).select_from(Advocate).where(Advocate.tier_id == tier_id)
    return (await session.exec(query)).scalar_one()


async def advocates_reaching(session: AsyncSession, min_points: int) -> list[int]:
    query = select(Advocate.id).where(Advocate.lifetime_points >= min_points)
    return list((await session.exec(query)).scalars().all())


async def get_tier(session: AsyncSession, tier_id: int) -> Tier | None:
    return await session.get(Tier, tier_id)
