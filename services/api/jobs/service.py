from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import NotFoundError
from services.api.jobs import repository
from services.api.jobs.schemas import JobPage, JobRead
from services.api.pagination import PageParams, make_page
from shared.models import Job


async def get_job(session: AsyncSession, job_id: int) -> Job:
    job = await repository.get_job(session, job_id)
    if job is None:
        raise NotFoundError("Job", job_id)
    return job


async def list_jobs(session: AsyncSession, params: PageParams, **filters) -> JobPage:
    rows = await repository.list_jobs(session, params, **filters)
    items, cursor = make_page(rows, params)
    return JobPage(items=[JobRead.model_validate(job) for job in items], next_cursor=cursor)
