from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import Incentive, IncentiveVersion


async def current_version(session: AsyncSession, incentive: Incentive) -> IncentiveVersion:
    query = select(IncentiveVersion).where(IncentiveVersion.incentive_id == incentive.id,
                                           IncentiveVersion.version == incentive.version)
    return (await session.exec(query)).one()


async def versions(
    session: AsyncSession, incentive_id: int, params: PageParams | None = None
) -> list[IncentiveVersion]:
    query = select(IncentiveVersion).where(IncentiveVersion.incentive_id == incentive_id)
    if params is None:
        query = query.order_by(IncentiveVersion.version)
    else:
        query = paginate_query(query, IncentiveVersion.id, params)
    return list((await session.exec(query)).all())


async def list_incentives(
    session: AsyncSession,
    params: PageParams,
    *,
    status: str | None = None,
    kind: str | None = None,
    activity_kind: str | None = None,
) -> list[tuple[Incentive, IncentiveVersion]]:
    """Incentives with their current version."""
    query = select(Incentive, IncentiveVersion).join(
        IncentiveVersion, (col(IncentiveVersion.incentive_id) == Incentive.id)
        & (col(IncentiveVersion.version) == Incentive.version))
    if status:
        query = query.where(Incentive.status == status)
    if kind:
        query = query.where(Incentive.kind == kind)
    if activity_kind:
        query = query.where(IncentiveVersion.activity_kind == activity_kind)
    return list((await session.exec(paginate_query(query, Incentive.id, params))).all())
