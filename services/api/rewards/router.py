from typing import Annotated

from fastapi import APIRouter, Depends

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.pagination import PageParams, page_params
from services.api.rewards import service
from services.api.rewards.schemas import RewardCreate, RewardPage, RewardRead, RewardUpdate
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/rewards", tags=["rewards"])
ReaderDep = requires(Permission.rewards_read)
WriterDep = requires(Permission.rewards_write)


@router.post("", summary="Add a reward to the catalogue", status_code=201,
             response_model=RewardRead)
async def create_reward(body: RewardCreate, session: SessionDep, _: WriterDep):
    return await service.create_reward(session, body)


@router.get("", summary="List the catalogue", response_model=RewardPage)
async def list_rewards(
    session: SessionDep,
    _: ReaderDep,
    params: Annotated[PageParams, Depends(page_params)],
    active: bool | None = None,
):
    return await service.list_rewards(session, params, active)


@router.get("/{reward_id}", summary="Get a reward", response_model=RewardRead)
async def get_reward(reward_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.get_reward(session, reward_id)


@router.patch("/{reward_id}", summary="Update a reward", response_model=RewardRead)
async def update_reward(reward_id: RowId, body: RewardUpdate, session: SessionDep, _: WriterDep):
    """Send `"active": true` to offer a deactivated reward again."""
    return await service.update_reward(session, reward_id, body)


@router.post("/{reward_id}/deactivate", summary="Withdraw a reward (rewards are never deleted)",
             response_model=RewardRead)
async def deactivate_reward(reward_id: RowId, session: SessionDep, _: WriterDep):
    return await service.deactivate_reward(session, reward_id)
