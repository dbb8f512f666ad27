from sqlalchemy import select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import Reward


async def list_rewards(
    session: AsyncSession, params: PageParams, *, active: bool | None = None
) -> list[Reward]:
    query = select(Reward)
    if active is not None:
        query = query.where(Reward.active == active)
    return list((await session.exec(paginate_query(query, Reward.id, params))).scalars().all())


async def take_one(session: AsyncSession, reward_id: int) -> bool:
    """Takes one item of an active reward if any is left: a conditional UPDATE, so two
    requests can never both take the last one."""
    result = await session.exec(
        update(Reward)
        .where(Reward.id == reward_id, col(Reward.active).is_(True),
               col(Reward.stock).is_(None) | (col(Reward.stock) > 0))
        .values(stock=Reward.stock - 1)  # NULL - 1 stays NULL: unlimited
        .returning(Reward.id)
    )
    return result.scalar_one_or_none() is not None


async def put_one_back(session: AsyncSession, reward_id: int) -> None:
    await session.exec(
        update(Reward)
        .where(Reward.id == reward_id, col(Reward.stock).is_not(None))
        .values(stock=Reward.stock + 1)
    )
