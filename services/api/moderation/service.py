"""Reports about members and what moderators do about them. Every action is a row in the member's
history with the status before and after; the member's status follows the action. A ban also
cancels the member's pending redemptions, refunding their points through the redemptions
service (one refund per redemption, whatever retries happen)."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activities.service import invalid_body
from services.api.auth.principal import Principal
from services.api.errors import NotFoundError, ProblemError
from services.api.moderation import repository
from services.api.moderation.schemas import (
    MemberHistory,
    ModerationActionKind,
    ModerationActionRead,
    Reinstatement,
    ReportCreate,
    ReportPage,
    ReportRead,
    Resolution,
    ResolutionCreate,
    SubjectPage,
    SubjectRead,
)
from services.api.pagination import PageParams, make_page
from services.api.redemptions import service as redemptions
from shared.models import Community, Member, ModerationAction, ModerationReport
from shared.models.base import utcnow
from shared.models.enums import MemberStatus

# From the mildest standing to the strictest.
_SEVERITY = [MemberStatus.active, MemberStatus.warned, MemberStatus.suspended,
             MemberStatus.banned]


def _stricter(current: str, target: MemberStatus) -> MemberStatus:
    """A resolution never softens a standing: a warning for a suspended member leaves them
    suspended. Lifting a sanction is an explicit reinstatement."""
    return max(MemberStatus(current), target, key=_SEVERITY.index)


def _read_report(row) -> ReportRead:
    report, subject_name, subject_status, reports, open_reports = row[:5]
    return ReportRead(**report.model_dump(), subject_name=subject_name,
                      subject_status=subject_status, reports_about_subject=reports,
                      open_reports_about_subject=open_reports, reporter_name=row.reporter_name,
                      community_name=row.community_name)


async def read_report(session: AsyncSession, report_id: int) -> ReportRead:
    row = await repository.get_report_view(session, report_id)
    if row is None:
        raise NotFoundError("Report", report_id)
    return _read_report(row)


async def list_reports(session: AsyncSession, params: PageParams, **filters) -> ReportPage:
    rows = await repository.list_report_views(session, params, **filters)
    kept, cursor = make_page(rows, params, sort=repository.OPEN_FIRST)
    return ReportPage(items=[_read_report(row) for row in kept], next_cursor=cursor)


async def list_subjects(session: AsyncSession, params: PageParams, **filters) -> SubjectPage:
    rows = await repository.list_subjects(session, params, **filters)
    kept, cursor = make_page(rows, params, sort=repository.MOST_REPORTED)
    return SubjectPage(items=[
        SubjectRead(member_id=row.id, name=row.name, status=row.status,
                    suspended_until=row.suspended_until, open_reports=row.open_reports,
                    reports=row.reports, last_reported_at=row.last_reported_at)
        for row in kept], next_cursor=cursor)


def _unknown(field: str, what: str, ident: int) -> ProblemError:
    return invalid_body([{"loc": [field], "msg": f"{what} {ident} does not exist",
                          "type": "not_found"}])


async def file_report(session: AsyncSession, body: ReportCreate) -> tuple[int, ReportRead]:
    for field, model, ident in (("subject_member_id", Member, body.subject_member_id),
                                ("reporter_member_id", Member, body.reporter_member_id),
                                ("community_id", Community, body.community_id)):
        if ident is not None and await session.get(model, ident) is None:
            raise _unknown(field, model.__tablename__, ident)
    report = ModerationReport(**body.model_dump())
    session.add(report)
    await session.flush()
    return 201, await read_report(session, report.id)


async def _record(
    session: AsyncSession,
    member: Member,
    action: ModerationActionKind,
    new_status: MemberStatus,
    principal: Principal,
    *,
    note: str,
    until: datetime | None = None,
    report_id: int | None = None,
) -> None:
    session.add(ModerationAction(
        member_id=member.id, report_id=report_id, action=action, note=note, until=until,
        previous_status=member.status, new_status=new_status,
        staff_user_id=principal.staff_user_id))
    member.status = new_status
    session.add(member)
    await session.flush()


async def _locked_member(session: AsyncSession, member_id: int) -> Member:
    member = await repository.lock_member(session, member_id)
    if member is None:
        raise NotFoundError("Member", member_id)
    return member


async def resolve_report(
    session: AsyncSession, report_id: int, body: ResolutionCreate, principal: Principal
) -> ReportRead:
    report = await session.get(ModerationReport, report_id)
    if report is None:
        raise NotFoundError("Report", report_id)
    if not await repository.close_report(session, report_id, {
            "action": body.action, "resolution_note": body.note,
            "resolved_by_id": principal.staff_user_id, "resolved_at": utcnow()}):
        raise ProblemError(409, f"Report {report_id} is resolved already.",
                           type_="report-resolved")
    member = await _locked_member(session, report.subject_member_id)
    match body.action:
        case Resolution.dismiss:
            new_status = MemberStatus(member.status)
        case Resolution.warn:
            new_status = _stricter(member.status, MemberStatus.warned)
        case Resolution.suspend:
            new_status = _stricter(member.status, MemberStatus.suspended)
        case Resolution.ban:
            new_status = MemberStatus.banned
    if new_status != MemberStatus.suspended:
        member.suspended_until = None
    elif body.action == Resolution.suspend:
        # A second suspension never shortens the first.
        member.suspended_until = max(body.until, member.suspended_until or body.until)
    await _record(session, member, ModerationActionKind(body.action), new_status, principal,
                  note=body.note, until=body.until, report_id=report_id)
    if body.action == Resolution.ban:
        # By the staff who banned; what was handed over (fulfilled) stays as it is.
        await redemptions.cancel_pending(session, member.id, principal)
    return await read_report(session, report_id)


async def reinstate(
    session: AsyncSession, member_id: int, body: Reinstatement, principal: Principal
) -> MemberHistory:
    """Lifts a warning, suspension or ban: the member is active again. What a ban cancelled
    stays cancelled."""
    member = await _locked_member(session, member_id)
    if member.status == MemberStatus.active:
        raise ProblemError(409, f"Member {member_id} is active; there is nothing to lift.",
                           type_="member-active")
    member.suspended_until = None
    await _record(session, member, ModerationActionKind.reinstate, MemberStatus.active,
                  principal, note=body.note)
    return await member_history(session, member_id, PageParams())


async def member_history(
    session: AsyncSession, member_id: int, params: PageParams
) -> MemberHistory:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFoundError("Member", member_id)
    actions, cursor = make_page(await repository.list_actions(session, member_id, params),
                                params)
    return MemberHistory(member_id=member.id, name=member.name, status=member.status,
                         suspended_until=member.suspended_until,
                         items=[ModerationActionRead.model_validate(a) for a in actions],
                         next_cursor=cursor)
