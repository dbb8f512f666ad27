from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import ReportRun


async def list_runs(
    session: AsyncSession, params: PageParams, *, kind: str | None, community_id: int | None,
    trigger: str | None, status: str | None,
) -> list[ReportRun]:
    query = select(ReportRun)
    for column, value in ((ReportRun.kind, kind), (ReportRun.community_id, community_id),
                          (ReportRun.trigger, trigger), (ReportRun.status, status)):
        if value is not None:
            query = query.where(column == value)
    return list((await session.exec(
        paginate_query(query, col(ReportRun.id), params, descending=True))).all())
