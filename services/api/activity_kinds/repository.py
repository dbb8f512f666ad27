from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import ActivityKind


async def get_by_key(session: AsyncSession, key: str) -> ActivityKind | None:
    return (await session.exec(select(ActivityKind).where(ActivityKind.key == key))).first()


async def known_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    query = select(ActivityKind.key).where(col(ActivityKind.key).in_(set(keys)))
    return set((await session.exec(query)).all())


async def list_kinds(session: AsyncSession, params: PageParams) -> list[ActivityKind]:
    return list((await session.exec(paginate_query(select(ActivityKind), ActivityKind.id,
                                                   params))).all())
