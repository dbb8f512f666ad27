from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.communities import service
from services.api.communities.schemas import (
    CommunityCreate,
    CommunityPage,
    CommunityRead,
    CommunityUpdate,
)
from services.api.deps import SessionDep
from services.api.pagination import PageParams, page_params
from shared.models.enums import CommunityKind, CommunityStatus
from shared.schemas.types import CountryCode, RowId

router = APIRouter(prefix="/v1/communities", tags=["communities"])
ReaderDep = requires(Permission.communities_read)
WriterDep = requires(Permission.communities_write)


@router.post("", summary="Create a community", status_code=201, response_model=CommunityRead)
async def create_community(body: CommunityCreate, session: SessionDep, _: WriterDep):
    return await service.create_community(session, body)


@router.get("", summary="List communities", response_model=CommunityPage)
async def list_communities(
    session: SessionDep,
    _: ReaderDep,
    params: Annotated[PageParams, Depends(page_params)],
    kind: CommunityKind | None = None,
    country: CountryCode | None = None,
    status: CommunityStatus | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Search name, slug, city.")] = None,
):
    return await service.list_communities(
        session, params, kind=kind, country=country, status=status, search=q
    )


@router.get("/{community_id}", summary="Get a community", response_model=CommunityRead)
async def get_community(community_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.get_community(session, community_id)


@router.patch("/{community_id}", summary="Update a community", response_model=CommunityRead)
async def update_community(
    community_id: RowId, body: CommunityUpdate, session: SessionDep, _: WriterDep
):
    return await service.update_community(session, community_id, body)


@router.post("/{community_id}/archive", summary="Archive a community",
             response_model=CommunityRead)
async def archive_community(community_id: RowId, session: SessionDep, _: WriterDep):
    return await service.archive_community(session, community_id)
