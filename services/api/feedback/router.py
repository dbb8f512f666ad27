from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.feedback import service
from services.api.feedback.schemas import (
    FeedbackCreate,
    FeedbackKind,
    FeedbackPage,
    FeedbackRead,
    FeedbackSort,
    FeedbackStatus,
    FeedbackUpdate,
    VoteCreate,
    VoteResult,
)
from services.api.idempotency import IdempotencyDep
from services.api.pagination import PageParams, page_params
from shared.jobs import enqueue_reward_calculation
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])
ReaderDep = requires(Permission.feedback_read)
WriterDep = requires(Permission.feedback_write)


@router.post("", summary="Submit feedback", status_code=201, response_model=FeedbackRead)
async def submit_feedback(
    body: FeedbackCreate,
    session: SessionDep,
    _: WriterDep,
    idempotency: IdempotencyDep,
    background: BackgroundTasks,
):
    """Records a `feedback_submitted` activity for the author; its points, if an incentive
    grants any, arrive through the worker."""
    background.add_task(enqueue_reward_calculation)
    return await idempotency.respond(lambda: service.submit_feedback(session, body))


@router.get("", summary="List feedback", response_model=FeedbackPage)
async def list_feedback(
    session: SessionDep,
    _: ReaderDep,
    params: Annotated[PageParams, Depends(page_params)],
    kind: FeedbackKind | None = None,
    status: FeedbackStatus | None = None,
    community_id: RowId | None = None,
    event_id: RowId | None = None,
    member_id: RowId | None = None,
    sort: Annotated[FeedbackSort, Query(description="`created_at`: newest first; `votes`: most "
                                                    "votes first.")] = FeedbackSort.created_at,
):
    return await service.list_feedback(session, params, sort=sort, kind=kind, status=status,
                                       community_id=community_id, event_id=event_id,
                                       member_id=member_id)


@router.get("/{feedback_id}", summary="Get feedback", response_model=FeedbackRead)
async def get_feedback(feedback_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.read_feedback(session, feedback_id)


@router.patch("/{feedback_id}", summary="Change the status of feedback or answer it",
              response_model=FeedbackRead)
async def update_feedback(
    feedback_id: RowId, body: FeedbackUpdate, session: SessionDep, principal: WriterDep
):
    return await service.update_feedback(session, feedback_id, body, principal)


@router.post("/{feedback_id}/votes", summary="Vote for an idea", status_code=201,
             response_model=VoteResult,
             responses={200: {"model": VoteResult,
                              "description": "The member had voted already: nothing changed."}})
async def vote(
    feedback_id: RowId, body: VoteCreate, session: SessionDep, _: WriterDep, response: Response
):
    response.status_code, result = await service.vote(session, feedback_id, body.member_id)
    return result


@router.delete("/{feedback_id}/votes/{member_id}", summary="Withdraw a member's vote",
               response_model=VoteResult)
async def withdraw_vote(feedback_id: RowId, member_id: RowId, session: SessionDep, _: WriterDep):
    return await service.withdraw_vote(session, feedback_id, member_id)
