from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from pydantic import AwareDatetime

from services.api.activities import service
from services.api.activities.schemas import (
    MAX_BULK_ITEMS,
    ActivityCreate,
    ActivityPage,
    ActivityRead,
    ActivityState,
    BulkActivities,
    BulkResult,
)
from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.idempotency import IdempotencyDep
from services.api.pagination import PageParams, page_params
from shared.jobs import enqueue_reward_calculation
from shared.rules.terms import ActivityKindKey, ActivityOutcome
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/activities", tags=["activities"])
ReaderDep = requires(Permission.activities_read)
WriterDep = requires(Permission.activities_write)

_REPLAY = {200: {"model": ActivityRead,
                 "description": "A replay: an activity with this `source` and `external_id` "
                                "was stored before; it is returned as stored and awards "
                                "nothing again."}}


@router.post("", summary="Record an activity", status_code=201, response_model=ActivityRead,
             responses=_REPLAY)
async def create_activity(
    body: ActivityCreate,
    session: SessionDep,
    _: WriterDep,
    idempotency: IdempotencyDep,
    background: BackgroundTasks,
):
    # The worker decides the points. The task runs once the transaction has committed; when
    # Redis is down the activity stays pending and the worker's cron finds it.
    background.add_task(enqueue_reward_calculation)
    return await idempotency.respond(lambda: service.create_activity(session, body))


@router.post("/bulk", summary=f"Record up to {MAX_BULK_ITEMS:,} activities",
             response_model=BulkResult,
             description="Each item is accepted, a duplicate (a replay, with the stored id) or "
                         "rejected with its errors; the good items are stored even when others "
                         "are bad.")
async def create_bulk(
    body: BulkActivities,
    session: SessionDep,
    _: WriterDep,
    idempotency: IdempotencyDep,
    background: BackgroundTasks,
):
    background.add_task(enqueue_reward_calculation)
    return await idempotency.respond(lambda: service.create_bulk(session, body))


@router.get("", summary="List activities, newest first", response_model=ActivityPage)
async def list_activities(
    session: SessionDep,
    _: ReaderDep,
    params: Annotated[PageParams, Depends(page_params)],
    member_id: RowId | None = None,
    community_id: RowId | None = None,
    kind: ActivityKindKey | None = None,
    start: Annotated[AwareDatetime | None,
                     Query(description="Occurred at or after (with an offset).")] = None,
    end: Annotated[AwareDatetime | None, Query(description="Occurred before.")] = None,
    state: ActivityState | None = None,
    outcome: ActivityOutcome | None = None,
):
    return await service.list_activities(
        session, params, member_id=member_id, community_id=community_id, kind=kind, start=start,
        end=end, state=state, outcome=outcome)


@router.get("/{activity_id}", summary="Get an activity", response_model=ActivityRead)
async def get_activity(activity_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.get_activity(session, activity_id)
