from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Query, Response

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.pagination import PageParams, page_params
from services.api.report_runs import service
from services.api.report_runs.schemas import (
    EXAMPLES,
    ReportRunCreate,
    ReportRunPage,
    ReportRunRead,
)
from shared.jobs import enqueue_job_row
from shared.models.enums import JobKind
from shared.models.reports import ReportKind, ReportRunStatus, ReportTrigger
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/reports/runs", tags=["report runs"])
ReaderDep = requires(Permission.reports_read)
WriterDep = requires(Permission.reports_write)


@router.post("", summary="Build and store a report (runs as a job)", status_code=202,
             response_model=ReportRunRead,
             description="The run is queued at once; its job (`job_id`, `GET /v1/jobs/{id}`) "
                         "shows the progress, and the run holds the report once done.")
async def start_run(
    body: Annotated[ReportRunCreate, Body(openapi_examples={
        kind: {"summary": kind, "value": value} for kind, value in EXAMPLES.items()})],
    session: SessionDep,
    principal: WriterDep,
    response: Response,
    background: BackgroundTasks,
):
    run = await service.start_run(session, body, principal)
    # Queued once the transaction has committed, so the worker always finds the run; if Redis is
    # down, the worker's sweep queues it later.
    background.add_task(enqueue_job_row, JobKind.report_build, run.job_id)
    response.headers["Location"] = f"/v1/reports/runs/{run.id}"
    return run


@router.get("", summary="List stored report runs, newest first", response_model=ReportRunPage)
async def list_runs(
    session: SessionDep,
    _: ReaderDep,
    params: Annotated[PageParams, Depends(page_params)],
    kind: ReportKind | None = None,
    community_id: Annotated[RowId | None, Query(description="Runs about this community.")] = None,
    trigger: ReportTrigger | None = None,
    status: ReportRunStatus | None = None,
):
    return await service.list_runs(session, params, kind=kind, community_id=community_id,
                                   trigger=trigger, status=status)


@router.get("/{run_id}", summary="Get a stored report run with its result",
            response_model=ReportRunRead)
async def get_run(run_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.get_run(session, run_id)
