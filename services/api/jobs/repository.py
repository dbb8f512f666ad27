from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import Job

# The payload (an uploaded file, up to megabytes) is the worker's input and never shown; a page
# of jobs should not read it.
_WITHOUT_PAYLOAD = defer(col(Job.payload))


async def get_job(session: AsyncSession, job_id: int) -> Job | None:
    return await session.get(Job, job_id, options=[_WITHOUT_PAYLOAD])


async def list_jobs(
    session: AsyncSession, params: PageParams, *, kind: str | None, status: str | None
) -> list[Job]:
    query = select(Job).options(_WITHOUT_PAYLOAD)
    if kind:
        query = query.where(Job.kind == kind)
    if status:
        query = query.where(Job.status == status)
    return list((await session.exec(paginate_query(query, Job.id, params))).all())
