from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.api.advocates import service
from services.api.advocates.schemas import (
    AccessLinkCreate,
    AccessLinkPage,
    AccessLinkRead,
    AccessLinksRevoked,
    AdjustmentCreate,
    AdvocateCreate,
    AdvocatePage,
    AdvocateRead,
    AdvocateSort,
    AdvocateStatus,
    LedgerEntryRead,
    LedgerPage,
)
from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.idempotency import IdempotencyDep
from services.api.pagination import PageParams, page_params
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/advocates", tags=["advocates"])
ReaderDep = requires(Permission.advocates_read)
WriterDep = requires(Permission.advocates_write)
PageDep = Annotated[PageParams, Depends(page_params)]


@router.post("", summary="Enrol a member as an advocate", status_code=201,
             response_model=AdvocateRead,
             responses={200: {"description": "A removed advocate was re-enrolled."}})
async def enrol_advocate(body: AdvocateCreate, session: SessionDep, _: WriterDep,
                         response: Response):
    """Banned, suspended and erased members are refused (409, with the `reason`)."""
    advocate, created = await service.enrol(session, body)
    response.status_code = 201 if created else 200
    return advocate


@router.get("", summary="List advocates", response_model=AdvocatePage)
async def list_advocates(
    session: SessionDep,
    _: ReaderDep,
    params: PageDep,
    status: AdvocateStatus | None = None,
    tier_id: RowId | None = None,
    community_id: RowId | None = None,
    sort: AdvocateSort = AdvocateSort.id,
):
    """`community_id`: advocates who are members of that community. `sort`: `id` ascending, or
    `balance` / `lifetime_points` largest first."""
    return await service.list_advocates(session, params, sort, status=status, tier_id=tier_id,
                                        community_id=community_id)


@router.get("/{advocate_id}", summary="Get an advocate", response_model=AdvocateRead)
async def get_advocate(advocate_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.read_advocate(session, advocate_id)


@router.post("/{advocate_id}/pause", summary="Pause an advocate (earns nothing, cannot redeem)",
             response_model=AdvocateRead)
async def pause_advocate(advocate_id: RowId, session: SessionDep, principal: WriterDep):
    return await service.change_status(session, advocate_id, "pause", principal)


@router.post("/{advocate_id}/resume", summary="Resume a paused advocate",
             response_model=AdvocateRead)
async def resume_advocate(advocate_id: RowId, session: SessionDep, principal: WriterDep):
    return await service.change_status(session, advocate_id, "resume", principal)


@router.post("/{advocate_id}/remove", summary="Remove an advocate from the program",
             response_model=AdvocateRead)
async def remove_advocate(advocate_id: RowId, session: SessionDep, principal: WriterDep):
    """The history and balance are kept; enrolling the member again reactivates them. Their
    requested and approved redemptions are cancelled and refunded; fulfilled ones stay."""
    return await service.change_status(session, advocate_id, "remove", principal)


@router.get("/{advocate_id}/ledger", summary="An advocate's point movements, newest first",
            response_model=LedgerPage)
async def list_ledger(advocate_id: RowId, session: SessionDep, _: ReaderDep, params: PageDep):
    return await service.list_ledger(session, advocate_id, params)


@router.post("/{advocate_id}/adjustments", summary="Adjust points by hand (audited)",
             status_code=201, response_model=LedgerEntryRead)
async def adjust_points(
    advocate_id: RowId, body: AdjustmentCreate, session: SessionDep, principal: WriterDep,
    idempotency: IdempotencyDep,
):
    """Refused with 409 `insufficient-points` when the balance would go negative. Send an
    `Idempotency-Key` to make a retry safe."""
    async def adjustment() -> tuple[int, LedgerEntryRead]:
        return 201, await service.adjust(session, advocate_id, body, principal)

    return await idempotency.respond(adjustment)


@router.post("/{advocate_id}/access-link", summary="Issue the advocate's personal access link",
             status_code=201, response_model=AccessLinkRead)
async def issue_access_link(
    advocate_id: RowId, session: SessionDep, principal: WriterDep,
    body: AccessLinkCreate | None = None,
):
    """The token is shown once. It reaches only the advocate's own `/v1/me` endpoints."""
    return await service.issue_access_link(session, advocate_id, body or AccessLinkCreate(),
                                           principal)


@router.get("/{advocate_id}/access-links", summary="The advocate's issued links, newest first",
            response_model=AccessLinkPage)
async def list_access_links(advocate_id: RowId, session: SessionDep, _: ReaderDep,
                            params: PageDep):
    """When each was issued, until when it works and whether it was revoked; never the token."""
    return await service.list_access_links(session, advocate_id, params)


@router.post("/{advocate_id}/access-links/revoke", summary="Revoke all of the advocate's links",
             response_model=AccessLinksRevoked)
async def revoke_access_links(advocate_id: RowId, session: SessionDep, _: WriterDep):
    return await service.revoke_access_links(session, advocate_id)


@router.post("/{advocate_id}/access-links/{link_id}/revoke", summary="Revoke one access link",
             response_model=AccessLinksRevoked)
async def revoke_access_link(advocate_id: RowId, link_id: RowId, session: SessionDep, _: WriterDep):
    """`revoked` is 0 when the link was revoked already."""
    return await service.revoke_access_links(session, advocate_id, link_id)
