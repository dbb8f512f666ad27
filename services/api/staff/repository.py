from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import StaffUser


async def list_staff(
    session: AsyncSession, params: PageParams, *, role: str | None, active: bool | None
) -> list[StaffUser]:
    query = select(StaffUser)
    if role:
        query = query.where(StaffUser.role == role)
    if active is not None:
        query = query.where(StaffUser.is_active == active)
    return list((await session.exec(paginate_query(query, StaffUser.id, params))).all())


async def count_staff(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(StaffUser))).one()


async def count_active_admins(session: AsyncSession) -> int:
    query = select(func.count()).where(
        StaffUser.role == "admin", col(StaffUser.is_active).is_(True)
    )
    return (await session.exec(query)).one()
