from typing import Any

from sqlalchemy import Select, case, func, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query, paginate_sorted
from shared.models import Community, Member, ModerationAction, ModerationReport

# The reports list puts open reports first; in a group, the oldest first, as a queue does.
OPEN_FIRST = "open_rank"
MOST_REPORTED = "open_reports"

_is_open = ModerationReport.status == "open"


def _per_subject(**conditions: Any):
    """Reports per subject member: all of them, the open ones, and the latest."""
    query = select(
        col(ModerationReport.subject_member_id).label("member_id"),
        func.count().label("reports"),
        func.sum(case((_is_open, 1), else_=0)).label("open_reports"),
        func.max(ModerationReport.created_at).label("last_reported_at"),
    ).group_by(ModerationReport.subject_member_id)
    for name, value in conditions.items():
        if value is not None:
            query = query.where(getattr(ModerationReport, name) == value)
    return query.subquery("per_subject")


def _report_view() -> Select:
    """Rows of (report, subject's name and status, reports about the subject, open ones,
    open rank), each field also reachable by name; `id` is the report's; then the reporter's and
    the community's names, so a moderator reads who and where without looking them up."""
    per_subject = _per_subject()
    reporter = aliased(Member)
    return (
        select(ModerationReport, Member.name, Member.status, per_subject.c.reports,
               per_subject.c.open_reports, case((_is_open, 0), else_=1).label(OPEN_FIRST),
               col(ModerationReport.id).label("id"), reporter.name.label("reporter_name"),
               col(Community.name).label("community_name"))
        .join(Member, col(Member.id) == ModerationReport.subject_member_id)
        .join(per_subject, per_subject.c.member_id == ModerationReport.subject_member_id)
        .outerjoin(reporter, reporter.id == ModerationReport.reporter_member_id)
        .outerjoin(Community, col(Community.id) == ModerationReport.community_id)
        .execution_options(populate_existing=True)
    )


async def get_report_view(session: AsyncSession, report_id: int):
    return (await session.exec(_report_view().where(ModerationReport.id == report_id))).first()


async def list_report_views(
    session: AsyncSession,
    params: PageParams,
    *,
    status: str | None = None,
    subject_member_id: int | None = None,
    community_id: int | None = None,
    reason: str | None = None,
) -> list:
    query = _report_view()
    for column, value in ((ModerationReport.status, status),
                          (ModerationReport.subject_member_id, subject_member_id),
                          (ModerationReport.community_id, community_id),
                          (ModerationReport.reason, reason)):
        if value is not None:
            query = query.where(column == value)
    query = paginate_sorted(query, params, sort=OPEN_FIRST, column=case((_is_open, 0), else_=1),
                            id_column=ModerationReport.id)
    return list((await session.exec(query)).all())


async def list_subjects(
    session: AsyncSession, params: PageParams, *, community_id: int | None = None
) -> list:
    """Members with open reports, the most reported first; rows carry `id` (the member's)."""
    per_subject = _per_subject(community_id=community_id)
    query = (
        select(per_subject.c.member_id.label("id"), Member.name, Member.status,
               Member.suspended_until, per_subject.c.reports, per_subject.c.open_reports,
               per_subject.c.last_reported_at)
        .join(Member, col(Member.id) == per_subject.c.member_id)
        .where(per_subject.c.open_reports > 0)
    )
    query = paginate_sorted(query, params, sort=MOST_REPORTED, column=per_subject.c.open_reports,
                            id_column=per_subject.c.member_id, descending=True)
    return list((await session.exec(query)).all())


async def close_report(session: AsyncSession, report_id: int, values: dict[str, Any]) -> bool:
    """Resolves the report only while it is open: of two moderators resolving it at once, the
    second finds it resolved and changes nothing."""
    closed = await session.exec(
        update(ModerationReport)
        .where(ModerationReport.id == report_id, _is_open)
        .values(status="resolved", **values)
        .returning(ModerationReport.id))
    return closed.first() is not None


async def lock_member(session: AsyncSession, member_id: int) -> Member | None:
    """Loads the member under a row lock: moderation actions on one member take turns."""
    query = (select(Member).where(Member.id == member_id).with_for_update()
             .execution_options(populate_existing=True))
    return (await session.exec(query)).first()


async def list_actions(
    session: AsyncSession, member_id: int, params: PageParams
) -> list[ModerationAction]:
    query = select(ModerationAction).where(ModerationAction.member_id == member_id)
    return list((await session.exec(
        paginate_query(query, ModerationAction.id, params, descending=True))).all())
