from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.me.schemas import MyRewardPage, MyRewardRead
from services.api.pagination import PageParams, make_page
from services.api.rewards import repository as rewards_repository
from services.api.rewards.schemas import RewardRead


async def list_rewards(session: AsyncSession, balance: int, params: PageParams) -> MyRewardPage:
    """The rewards on offer, each saying whether this balance affords it."""
    rows = await rewards_repository.list_rewards(session, params, active=True)
    items, cursor = make_page(rows, params)
    return MyRewardPage(
        items=[MyRewardRead(**RewardRead.model_validate(reward).model_dump(),
                            affordable=reward.cost_points <= balance,
                            in_stock=reward.stock is None or reward.stock > 0)
               for reward in items],
        next_cursor=cursor,
    )
