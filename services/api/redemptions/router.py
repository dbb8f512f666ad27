from typing import Annotated

from fastapi import APIRouter, Depends

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.idempotency import IdempotencyDep
from services.api.pagination import PageParams, page_params
from services.api.redemptions import service
from services.api.redemptions.schemas import (
    RedemptionCreate,
    RedemptionPage,
    RedemptionRead,
    RedemptionReject,
    RedemptionStatus,
)
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/redemptions", tags=["redemptions"])
ReaderDep = requires(Permission.redemptions_read)
WriterDep = requires(Permission.redemptions_write)


@router.post("", summary="Redeem a reward for an advocate", status_code=201,
             response_model=RedemptionRead)
async def request_redemption(
    body: RedemptionCreate, session: SessionDep, principal: WriterDep, idempotency: IdempotencyDep
):
    """Debits the points at once (409 `insufficient-points`, `out-of-stock`, `limit-reached`,
    `reward-inactive`, `advocate-not-active` (paused or removed) or `member-banned` otherwise, and
    nothing changes). Approved straight
    away when the reward needs no approval. Send an `Idempotency-Key` to make a retry safe."""
    async def redemption() -> tuple[int, RedemptionRead]:
        return 201, await service.request_redemption(session, body.advocate_id, body.reward_id,
                                                     principal)

    return await idempotency.respond(redemption)


@router.get("", summary="List redemptions, oldest first", response_model=RedemptionPage)
async def list_redemptions(
    session: SessionDep,
    _: ReaderDep,
    params: Annotated[PageParams, Depends(page_params)],
    status: RedemptionStatus | None = None,
    advocate_id: RowId | None = None,
    reward_id: RowId | None = None,
):
    return await service.list_redemptions(session, params, status=status,
                                          advocate_id=advocate_id, reward_id=reward_id)


@router.get("/{redemption_id}", summary="Get a redemption", response_model=RedemptionRead)
async def get_redemption(redemption_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.read_redemption(session, redemption_id)


@router.post("/{redemption_id}/approve", summary="Approve a requested redemption",
             response_model=RedemptionRead)
async def approve_redemption(redemption_id: RowId, session: SessionDep, principal: WriterDep):
    return await service.approve(session, redemption_id, principal)


@router.post("/{redemption_id}/reject", summary="Reject a requested redemption (refunds)",
             response_model=RedemptionRead)
async def reject_redemption(
    redemption_id: RowId, body: RedemptionReject, session: SessionDep, principal: WriterDep
):
    return await service.reject(session, redemption_id, body, principal)


@router.post("/{redemption_id}/fulfil", summary="Mark an approved redemption fulfilled",
             response_model=RedemptionRead)
async def fulfil_redemption(redemption_id: RowId, session: SessionDep, _: WriterDep):
    return await service.fulfil(session, redemption_id)


@router.post("/{redemption_id}/cancel", summary="Cancel a redemption not yet fulfilled (refunds)",
             response_model=RedemptionRead)
async def cancel_redemption(redemption_id: RowId, session: SessionDep, principal: WriterDep):
    return await service.cancel(session, redemption_id, principal)
