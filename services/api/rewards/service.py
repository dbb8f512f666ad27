from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import NotFoundError
from services.api.pagination import PageParams, make_page
from services.api.rewards import repository
from services.api.rewards.schemas import RewardCreate, RewardPage, RewardRead, RewardUpdate
from shared.models import Reward


async def get_reward(session: AsyncSession, reward_id: int) -> Reward:
    reward = await session.get(Reward, reward_id)
    if reward is None:
        raise NotFoundError("Reward", reward_id)
    return reward


async def list_rewards(
    session: AsyncSession, params: PageParams, active: bool | None
) -> RewardPage:
    rows = await repository.list_rewards(session, params, active=active)
    items, cursor = make_page(rows, params)
    return RewardPage(items=[RewardRead.model_validate(r) for r in items], next_cursor=cursor)


async def create_reward(session: AsyncSession, body: RewardCreate) -> Reward:
    reward = Reward(**body.model_dump())
    session.add(reward)
    await session.flush()
    return reward


async def update_reward(session: AsyncSession, reward_id: int, body: RewardUpdate) -> Reward:
    """A new cost applies to later redemptions; those made keep the points they reserved."""
    reward = await get_reward(session, reward_id)
    reward.sqlmodel_update(body.model_dump(exclude_unset=True))
    session.add(reward)
    await session.flush()
    return reward


async def deactivate_reward(session: AsyncSession, reward_id: int) -> Reward:
    """Rewards are never deleted: redemptions and ledger entries keep pointing at them."""
    reward = await get_reward(session, reward_id)
    reward.active = False
    session.add(reward)
    await session.flush()
    return reward
