"""The engagement report (DESIGN.md section 4): per community or for the whole program, over a
period of inclusive UTC dates."""

from collections.abc import Iterable
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.metrics import queries
from shared.metrics.queries import PROGRAM, Scope, Window, count_of
from shared.metrics.schemas import EngagementReport, TopMember

TOP_MEMBERS = 10

EXPLANATION = (
    "Period: start 00:00 UTC to the end of the end date. Members: memberships that began by the "
    "end; new members: those that began in the period (for the whole program, a person counts "
    "once, as new when their first membership began in it). Active members: at least one "
    "activity in the period; active posters: at least one post, answer, content or talk. Events "
    "start in the period (cancelled ones excluded); attendance counts their check-ins. Median "
    "first response: hours from submission to the first staff response, over the period's "
    "feedback that has one. Top members: by points earned in the period and by activities. "
    "Banned, test and staff accounts are left out."
)


async def engagement(
    session: AsyncSession, community_id: int | None, start: date, end: date
) -> EngagementReport:
    """One community's report, or the whole program's when `community_id` is None."""
    scope = Scope.of(community_id)
    reports = await _reports(session, scope, start, end,
                             [PROGRAM if community_id is None else community_id])
    report = reports[0]
    return report.model_copy(update={"community_id": community_id})


async def engagement_for_communities(
    session: AsyncSession, start: date, end: date, community_ids: Iterable[int] | None = None
) -> list[EngagementReport]:
    """A report per community (all of them, or those of `community_ids` that exist), in id
    order, from the same handful of queries whatever their number."""
    ids = await queries.community_ids(session, community_ids)
    if not ids:
        return []
    wanted = None if community_ids is None else tuple(ids)
    return await _reports(session, Scope(wanted), start, end, ids)


async def _reports(
    session: AsyncSession, scope: Scope, start: date, end: date, keys: list[int]
) -> list[EngagementReport]:
    window = Window.of_dates(start, end)
    await queries.tune_for_reports(session)
    posting = await queries.content_kinds(session)
    memberships = await queries.membership_totals(session, scope, window)
    members = await queries.member_totals(session, scope, window, posting_kinds=posting,
                                          limit=TOP_MEMBERS)
    events = await queries.event_totals(session, scope, window)
    feedback = await queries.feedback_totals(session, scope, window)
    responses = await queries.first_response_hours(session, scope, window)
    reports = []
    for key in keys:
        active = members.get(key, queries.MemberTotals())
        event = events.get(key)
        given = feedback.get(key)
        reports.append(EngagementReport(
            community_id=key,
            start=start,
            end=end,
            members=count_of(memberships.get(key), "members"),
            new_members=count_of(memberships.get(key), "new_members"),
            active_members=active.active_members,
            active_posters=active.active_posters,
            activities=active.activities,
            events=count_of(event, "events"),
            attendance=count_of(event, "attendance"),
            feedback_count=count_of(given, "feedback_count"),
            mean_rating=round(float(given.mean_rating), 2)
            if given and given.mean_rating is not None else None,
            median_first_response_hours=queries.median(responses.get(key)),
            top_members=_top(active.by_points),
            top_members_by_activity=_top(active.by_activity),
            explanation=EXPLANATION,
        ))
    return reports


def _top(rows) -> list[TopMember]:
    return [TopMember(member_id=row.member_id, name=row.name, points=int(row.points),
                      activities=int(row.activities)) for row in rows]
