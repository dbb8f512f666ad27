"""Stored report runs: on demand (a job builds it; `build_report` in services/worker/reports.py)
and by the schedule (the worker stores them itself). Building takes the worker, never a request."""

from datetime import date, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activities.service import invalid_body
from services.api.activity_kinds.repository import known_keys
from services.api.auth.principal import Principal
from services.api.errors import NotFoundError
from services.api.pagination import PageParams, make_page
from services.api.report_runs import repository
from services.api.report_runs.schemas import ReportRunCreate, ReportRunPage, ReportRunRead
from shared.metrics.impact_relevance import program_weights
from shared.metrics.schemas import GrowthInterval
from shared.models import Community, Job, ReportRun
from shared.models.base import utcnow
from shared.models.enums import JobKind
from shared.models.reports import ReportKind, ReportRunStatus, ReportTrigger
from shared.settings import get_settings

# Up to about four months a growth report reads well by week; longer periods go by month.
WEEKLY_UP_TO_DAYS = 120


def _period(body: ReportRunCreate) -> tuple[date, date]:
    end = body.end or utcnow().date()
    weeks = get_settings().report_every_weeks
    start = body.start or end - timedelta(weeks=weeks) + timedelta(days=1)
    if start > end:
        raise invalid_body([{"loc": ["start"], "type": "value_error",
                             "msg": f"must not be after end ({end})"}])
    return start, end


def _parameters(body: ReportRunCreate, start: date, end: date) -> dict[str, Any]:
    """The kind's settings as the report is built with them: given, else the program's."""
    settings = get_settings()
    match body.kind:
        case ReportKind.growth:
            weekly = (end - start).days <= WEEKLY_UP_TO_DAYS
            interval = body.interval or (GrowthInterval.week if weekly else GrowthInterval.month)
            return {"interval": interval}
        case ReportKind.influence:
            return {"half_life_days": body.half_life_days or settings.influence_half_life_days}
        case ReportKind.impact_relevance:
            weights = body.weights or program_weights(settings)
            focus_kinds = body.focus_kinds if body.focus_kinds is not None else settings.focus_kinds
            focus_topics = (body.focus_topics if body.focus_topics is not None
                            else settings.focus_topics)
            return {"weights": weights.model_dump(), "focus_kinds": focus_kinds,
                    "focus_topics": focus_topics}
    return {}


async def _refuse_unknown_references(session: AsyncSession, body: ReportRunCreate) -> None:
    if body.community_id is not None and await session.get(Community, body.community_id) is None:
        raise invalid_body([{"loc": ["community_id"], "type": "not_found",
                             "msg": f"no community has the id {body.community_id}"}])
    focus_kinds = set(body.focus_kinds or ())
    unknown = sorted(focus_kinds - await known_keys(session, focus_kinds))
    if unknown:
        raise invalid_body([{"loc": ["focus_kinds"], "type": "unknown_kind",
                             "msg": f"{unknown[0]!r} is not an activity kind "
                                    "(see GET /v1/activity-kinds)"}])


async def start_run(
    session: AsyncSession, body: ReportRunCreate, principal: Principal
) -> ReportRunRead:
    start, end = _period(body)
    await _refuse_unknown_references(session, body)
    job = Job(kind=JobKind.report_build, created_by_id=principal.staff_user_id)
    session.add(job)
    await session.flush()
    run = ReportRun(kind=body.kind, community_id=body.community_id,
                    parameters=_parameters(body, start, end), status=ReportRunStatus.queued,
                    job_id=job.id, trigger=ReportTrigger.on_demand,
                    requested_by_id=principal.staff_user_id, period_start=start, period_end=end)
    session.add(run)
    await session.flush()
    # The job's own record of what it builds, for GET /v1/jobs/{id}.
    job.params = {"report_run_id": run.id}
    session.add(job)
    await session.flush()
    return ReportRunRead.model_validate(run)


async def get_run(session: AsyncSession, run_id: int) -> ReportRunRead:
    run = await session.get(ReportRun, run_id)
    if run is None:
        raise NotFoundError("Report run", run_id)
    return ReportRunRead.model_validate(run)


async def list_runs(session: AsyncSession, params: PageParams, **filters) -> ReportRunPage:
    items, cursor = make_page(await repository.list_runs(session, params, **filters), params)
    return ReportRunPage(items=[ReportRunRead.model_validate(run) for run in items],
                         next_cursor=cursor)
