from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import Community


async def get_by_slug(session: AsyncSession, slug: str) -> Community | None:
    return (await session.exec(select(Community).where(Community.slug == slug))).first()


async def list_communities(
    session: AsyncSession,
    params: PageParams,
    *,
    kind: str | None = None,
    country: str | None = None,
    status: str | None = None,
    search: str | None = None,
) -> list[Community]:
    query = select(Community)
    if kind:
        query = query.where(Community.kind == kind)
    if country:
        query = query.where(Community.country == country)
    if status:
        query = query.where(Community.status == status)
    if search:
        # Case-insensitive substring match on name, slug and city, alike on SQLite and PostgreSQL.
        pattern = f"%{search.lower()}%"
        query = query.where(or_(
            func.lower(Community.name).like(pattern),
            col(Community.slug).like(pattern),
            func.lower(Community.city).like(pattern),
        ))
    return list((await session.exec(paginate_query(query, Community.id, params))).all())
