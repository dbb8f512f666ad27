from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activity_kinds import repository
from services.api.activity_kinds.schemas import (
    ActivityKindCreate,
    ActivityKindPage,
    ActivityKindRead,
)
from services.api.errors import ConflictError
from services.api.pagination import PageParams, make_page
from shared.models import ActivityKind


async def create_kind(session: AsyncSession, body: ActivityKindCreate) -> ActivityKind:
    if await repository.get_by_key(session, body.key):
        raise ConflictError(f"The activity kind {body.key!r} exists already.", field="key")
    kind = ActivityKind(**body.model_dump())
    session.add(kind)
    await session.flush()
    return kind


async def list_kinds(session: AsyncSession, params: PageParams) -> ActivityKindPage:
    items, cursor = make_page(await repository.list_kinds(session, params), params)
    return ActivityKindPage(items=[ActivityKindRead.model_validate(k) for k in items],
                            next_cursor=cursor)
