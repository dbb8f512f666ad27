from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.communities import repository
from services.api.communities.schemas import (
    CommunityCreate,
    CommunityPage,
    CommunityRead,
    CommunityUpdate,
)
from services.api.errors import ConflictError, NotFoundError
from services.api.pagination import PageParams, make_page
from shared.models import Community
from shared.models.enums import CommunityStatus


async def get_community(session: AsyncSession, community_id: int) -> Community:
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFoundError("Community", community_id)
    return community


async def _refuse_taken_slug(session: AsyncSession, slug: str) -> None:
    if await repository.get_by_slug(session, slug):
        raise ConflictError(f"The slug {slug!r} is taken by another community.", field="slug")


async def create_community(session: AsyncSession, body: CommunityCreate) -> Community:
    await _refuse_taken_slug(session, body.slug)
    community = Community(**body.model_dump())
    session.add(community)
    await session.flush()
    return community


async def update_community(
    session: AsyncSession, community_id: int, body: CommunityUpdate
) -> Community:
    community = await get_community(session, community_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("slug") not in (None, community.slug):
        await _refuse_taken_slug(session, changes["slug"])
    for field, value in changes.items():
        setattr(community, field, value)
    session.add(community)
    await session.flush()
    return community


async def archive_community(session: AsyncSession, community_id: int) -> Community:
    """Archiving keeps the community and all its history; it only stops being active."""
    community = await get_community(session, community_id)
    community.status = CommunityStatus.archived
    session.add(community)
    await session.flush()
    return community


async def list_communities(session: AsyncSession, params: PageParams, **filters) -> CommunityPage:
    rows = await repository.list_communities(session, params, **filters)
    items, cursor = make_page(rows, params)
    return CommunityPage(items=[CommunityRead.model_validate(c) for c in items],
                         next_cursor=cursor)
