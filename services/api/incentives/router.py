from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Response

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.incentives import service
from services.api.incentives.schemas import (
    EXAMPLES,
    IncentiveCreate,
    IncentiveDetail,
    IncentivePage,
    IncentiveUpdate,
    IncentiveVersionPage,
    PeriodRequest,
    RescoreRequest,
)
from services.api.jobs.schemas import JobRead
from services.api.pagination import PageParams, page_params
from shared.jobs import enqueue_job_row
from shared.models import Job
from shared.rules.terms import ActivityKindKey, IncentiveKind, IncentiveStatus
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/incentives", tags=["incentives"])
ReaderDep = requires(Permission.incentives_read)
WriterDep = requires(Permission.incentives_write)
RescorerDep = requires(Permission.incentives_rescore)
PageDep = Annotated[PageParams, Depends(page_params)]


def _accepted(job: Job, response: Response, background: BackgroundTasks) -> JobRead:
    # Queued once the transaction has committed, so the worker always finds the job; if Redis is
    # down, the worker's sweep queues it later.
    background.add_task(enqueue_job_row, job.kind, job.id)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobRead.model_validate(job)


@router.post("", summary="Create an incentive", status_code=201, response_model=IncentiveDetail)
async def create_incentive(
    body: Annotated[IncentiveCreate, Body(openapi_examples={
        kind: {"summary": kind, "value": value} for kind, value in EXAMPLES.items()})],
    session: SessionDep,
    principal: WriterDep,
):
    return await service.create_incentive(session, body, principal)


@router.get("", summary="List incentives", response_model=IncentivePage)
async def list_incentives(
    session: SessionDep,
    _: ReaderDep,
    params: PageDep,
    status: IncentiveStatus | None = None,
    kind: IncentiveKind | None = None,
    activity_kind: ActivityKindKey | None = None,
):
    return await service.list_incentives(session, params, status=status, kind=kind,
                                         activity_kind=activity_kind)


@router.get("/{incentive_id}", summary="Get an incentive with its version history",
            response_model=IncentiveDetail)
async def get_incentive(incentive_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.get_incentive(session, incentive_id)


@router.patch("/{incentive_id}", summary="Edit an incentive or change its status",
              response_model=IncentiveDetail)
async def update_incentive(
    incentive_id: RowId, body: IncentiveUpdate, session: SessionDep, principal: WriterDep
):
    return await service.update_incentive(session, incentive_id, body, principal)


@router.get("/{incentive_id}/versions", summary="List an incentive's versions",
            response_model=IncentiveVersionPage)
async def list_versions(incentive_id: RowId, session: SessionDep, _: ReaderDep, params: PageDep):
    return await service.list_versions(session, incentive_id, params)


@router.post("/{incentive_id}/preview", summary="Preview what an incentive would award",
             status_code=202, response_model=JobRead,
             description="Runs as a job over the activities processed in the period (drafts "
                         "too) and writes nothing to the ledger: `GET /v1/jobs/{id}` then shows "
                         "the awards and points the current terms would give that the incentive "
                         "has not given yet, in total and for the top 100 advocates.")
async def preview_incentive(
    incentive_id: RowId, body: PeriodRequest, session: SessionDep, principal: WriterDep,
    response: Response, background: BackgroundTasks,
):
    job = await service.start_preview(session, incentive_id, body, principal)
    return _accepted(job, response, background)


@router.post("/{incentive_id}/rescore", summary="Rescore past activities (admin)",
             status_code=202, response_model=JobRead,
             description="Applies the incentive's current terms to the activities processed in "
                         "the period that it has not awarded yet, as a job with progress. "
                         "`dry_run` (the default) only previews it. Activities refused while "
                         "their member was suspended or banned stay unpaid.")
async def rescore_incentive(
    incentive_id: RowId, body: RescoreRequest, session: SessionDep, principal: RescorerDep,
    response: Response, background: BackgroundTasks,
):
    job = await service.start_rescore(session, incentive_id, body, principal)
    return _accepted(job, response, background)
