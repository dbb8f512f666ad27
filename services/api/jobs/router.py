from typing import Annotated

from fastapi import APIRouter, Depends

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.jobs import service
from services.api.jobs.schemas import JobPage, JobRead
from services.api.pagination import PageParams, page_params
from shared.models.enums import JobKind, JobStatus
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
ReaderDep = requires(Permission.jobs_read)


@router.get("", summary="List jobs", response_model=JobPage)
async def list_jobs(
    session: SessionDep,
    _: ReaderDep,
    params: Annotated[PageParams, Depends(page_params)],
    kind: JobKind | None = None,
    status: JobStatus | None = None,
):
    return await service.list_jobs(session, params, kind=kind, status=status)


@router.get("/{job_id}", summary="Get a job: status, progress, errors and result",
            response_model=JobRead)
async def get_job(job_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.get_job(session, job_id)
