from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.pagination import PageParams, page_params
from services.api.tiers import service
from services.api.tiers.schemas import TierCreate, TierPage, TierRead, TierUpdate
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/tiers", tags=["tiers"])
ReaderDep = requires(Permission.rewards_read)
WriterDep = requires(Permission.rewards_write)


@router.post("", summary="Create a tier", status_code=201, response_model=TierRead)
async def create_tier(body: TierCreate, session: SessionDep, _: WriterDep):
    """Advocates whose lifetime points reach it are promoted at once."""
    return await service.create_tier(session, body)


@router.get("", summary="List tiers, lowest threshold first", response_model=TierPage)
async def list_tiers(
    session: SessionDep, _: ReaderDep, params: Annotated[PageParams, Depends(page_params)]
):
    return await service.list_tiers(session, params)


@router.get("/{tier_id}", summary="Get a tier", response_model=TierRead)
async def get_tier(tier_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.get_tier(session, tier_id)


@router.patch("/{tier_id}", summary="Update a tier", response_model=TierRead)
async def update_tier(tier_id: RowId, body: TierUpdate, session: SessionDep, _: WriterDep):
    """Lowering the threshold promotes whoever now reaches it; raising it demotes no one."""
    return await service.update_tier(session, tier_id, body)


@router.delete("/{tier_id}", summary="Delete a tier nobody holds", status_code=204)
async def delete_tier(tier_id: RowId, session: SessionDep, _: WriterDep) -> Response:
    await service.delete_tier(session, tier_id)
    return Response(status_code=204)
