from typing import Annotated

from fastapi import APIRouter, Depends

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.idempotency import IdempotencyDep
from services.api.moderation import service
from services.api.moderation.schemas import (
    MemberHistory,
    Reinstatement,
    ReportCreate,
    ReportPage,
    ReportRead,
    ReportReason,
    ReportStatus,
    ResolutionCreate,
    SubjectPage,
)
from services.api.pagination import PageParams, page_params
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/moderation", tags=["moderation"])
ReaderDep = requires(Permission.moderation_read)
WriterDep = requires(Permission.moderation_write)
PageDep = Annotated[PageParams, Depends(page_params)]


@router.post("/reports", summary="Report a member", status_code=201, response_model=ReportRead)
async def file_report(
    body: ReportCreate, session: SessionDep, _: WriterDep, idempotency: IdempotencyDep
):
    return await idempotency.respond(lambda: service.file_report(session, body))


@router.get("/reports", summary="List reports, open ones first", response_model=ReportPage)
async def list_reports(
    session: SessionDep,
    _: ReaderDep,
    params: PageDep,
    status: ReportStatus | None = None,
    subject_member_id: RowId | None = None,
    community_id: RowId | None = None,
    reason: ReportReason | None = None,
):
    """Open reports come first, oldest first as in a queue. Each report counts the reports
    about the same member, so a pattern shows at a glance."""
    return await service.list_reports(session, params, status=status,
                                      subject_member_id=subject_member_id,
                                      community_id=community_id, reason=reason)


@router.get("/reports/{report_id}", summary="Get a report", response_model=ReportRead)
async def get_report(report_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.read_report(session, report_id)


@router.post("/reports/{report_id}/resolve", summary="Resolve a report",
             response_model=ReportRead)
async def resolve_report(
    report_id: RowId, body: ResolutionCreate, session: SessionDep, principal: WriterDep
):
    """`dismiss` leaves the member as they are; `warn`, `suspend` (until a time) and `ban` set
    their status, never to a milder one than they have. A ban also cancels the member's pending
    redemptions with refunds. A resolved report cannot be resolved again (409)."""
    return await service.resolve_report(session, report_id, body, principal)


@router.get("/subjects", summary="Members with open reports, the most reported first",
            response_model=SubjectPage)
async def list_subjects(
    session: SessionDep, _: ReaderDep, params: PageDep, community_id: RowId | None = None
):
    return await service.list_subjects(session, params, community_id=community_id)


@router.get("/members/{member_id}/history", summary="A member's moderation history",
            response_model=MemberHistory)
async def member_history(member_id: RowId, session: SessionDep, _: ReaderDep, params: PageDep):
    return await service.member_history(session, member_id, params)


@router.post("/members/{member_id}/reinstate",
             summary="Lift a member's warning, suspension or ban", response_model=MemberHistory)
async def reinstate(
    member_id: RowId, body: Reinstatement, session: SessionDep, principal: WriterDep
):
    return await service.reinstate(session, member_id, body, principal)
