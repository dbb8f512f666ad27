"""Report runs: a report built on demand as a job, and the schedule that stores every active
community's engagement and health reports every `report_every_weeks` weeks.

An on-demand run has a `Job` row that carries its progress and attempts; the sweep queues it
again if Redis lost it, and a second run of the job stores nothing twice (each step is a
conditional UPDATE on the job's status).

The schedule computes its reports first, read-only and set-based (one engagement or health
computation for a chunk of communities), then stores them with one conditional INSERT per chunk:
the partial unique index on (kind, community, period, trigger) makes a second run, or two workers
at once, store each community's report for a period once. A run cut short loses only its current
chunk, which the next run finds still due."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import exists, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import session_scope
from shared.ledger import insert_ignoring_duplicates
from shared.metrics.engagement import engagement, engagement_for_communities
from shared.metrics.growth import growth
from shared.metrics.health import health, health_for_communities
from shared.metrics.impact_relevance import impact_relevance
from shared.metrics.influence import influence
from shared.metrics.schemas import GrowthInterval, ImpactRelevanceWeights
from shared.models import Community, Job, ReportRun
from shared.models.base import utcnow
from shared.models.enums import CommunityStatus, JobStatus
from shared.models.reports import ReportKind, ReportRunStatus, ReportTrigger
from shared.settings import get_settings

log = logging.getLogger("hearth.worker.reports")

# A run that keeps dying (a bug, a timeout) is given up after this many.
MAX_ATTEMPTS = 5
ACTIVE = (JobStatus.queued, JobStatus.running)
# Communities computed and stored together by the schedule: one set-based computation and one
# INSERT each, with memory bounded whatever the number of communities.
SCHEDULE_CHUNK = 100
SCHEDULED_KINDS = (ReportKind.engagement, ReportKind.health)


async def compute(session: AsyncSession, run: ReportRun) -> BaseModel:
    """The report a run asks for, from its kind, community, period and stored parameters."""
    start, end, params = run.period_start, run.period_end, run.parameters
    match ReportKind(run.kind):
        case ReportKind.engagement:
            return await engagement(session, run.community_id, start, end)
        case ReportKind.health:
            return await health(session, run.community_id, end)
        case ReportKind.impact_relevance:
            return await impact_relevance(
                session, start, end, ImpactRelevanceWeights(**params["weights"]),
                focus_kinds=params.get("focus_kinds"), focus_topics=params["focus_topics"])
        case ReportKind.growth:
            return await growth(session, run.community_id, start, end,
                                GrowthInterval(params["interval"]))
        case ReportKind.influence:
            return await influence(session, run.community_id, start, end,
                                   params["half_life_days"])


# On demand ------------------------------------------------------------------------------------


async def build_report(ctx: dict[str, Any], job_id: int) -> None:
    """Builds the run whose job is `job_id` and stores its result."""
    run_id = await _start(job_id)
    if run_id is None:
        return
    try:
        async with session_scope() as session:
            report = await compute(session, await session.get(ReportRun, run_id))
    except LookupError as exc:
        # What the report is about is gone (a community removed since the request): final.
        await _finish(job_id, run_id, failed_because=str(exc))
        return
    except Exception:
        log.exception("report run %s (job %s) stopped", run_id, job_id)
        await _after_crash(job_id, run_id)
        return
    await _finish(job_id, run_id, result=report.model_dump(mode="json"))


async def _start(job_id: int) -> int | None:
    """Marks the job and its run running; the run's id, or None when there is nothing to do."""
    async with session_scope() as session:
        started = await session.exec(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status).in_(ACTIVE),
                   col(Job.attempts) < MAX_ATTEMPTS)
            .values(status=JobStatus.running, started_at=utcnow(), attempts=Job.attempts + 1,
                    total=1))
        run_id = (await session.exec(
            select(ReportRun.id).where(ReportRun.job_id == job_id))).first()
        if started.rowcount == 1 and run_id is not None:
            await _set_run(session, run_id, status=ReportRunStatus.running)
            return run_id
    if run_id is not None:
        # Unknown, finished, or out of attempts (each dying before it could record why).
        await _finish(job_id, run_id, failed_because=(
            f"The report stopped after {MAX_ATTEMPTS} attempts because of an internal error; "
            "it has been logged."))
    return None


async def _finish(
    job_id: int, run_id: int, *, result: dict[str, Any] | None = None,
    failed_because: str | None = None,
) -> None:
    """Stores the outcome on the job and its run, once: a second run of the job finds the job
    finished and changes nothing."""
    failed = failed_because is not None
    now = utcnow()
    async with session_scope() as session:
        finished = await session.exec(
            update(Job).where(col(Job.id) == job_id, col(Job.status).in_(ACTIVE))
            .values(status=JobStatus.failed if failed else JobStatus.succeeded,
                    finished_at=now, progress=0 if failed else 1,
                    result={"report_run_id": run_id}))
        if finished.rowcount != 1:
            return
        await _set_run(session, run_id, finished_at=now, result=result,
                       status=ReportRunStatus.failed if failed else ReportRunStatus.done)
        if failed:
            job = await session.get(Job, job_id)
            job.errors = [*job.errors, {"line": None, "reason": failed_because}]


async def _after_crash(job_id: int, run_id: int) -> None:
    """Queued again for the sweep to retry, or failed once the job has had its attempts."""
    async with session_scope() as session:
        requeued = await session.exec(
            update(Job).where(col(Job.id) == job_id, col(Job.status) == JobStatus.running,
                              col(Job.attempts) < MAX_ATTEMPTS)
            .values(status=JobStatus.queued))
        if requeued.rowcount == 1:
            await _set_run(session, run_id, status=ReportRunStatus.queued)
            return
    await _finish(job_id, run_id, failed_because="The report stopped because of an internal "
                                                 "error; it has been logged.")


async def _set_run(session: AsyncSession, run_id: int, **values: Any) -> None:
    await session.exec(update(ReportRun).where(col(ReportRun.id) == run_id).values(**values))


# The schedule ---------------------------------------------------------------------------------

Builder = Callable[[AsyncSession, Sequence[int], date, date], Awaitable[dict[int, BaseModel]]]


def scheduled_period(today: date, weeks: int) -> tuple[date, date]:
    """The last `weeks` whole weeks of days up to yesterday (today is not over yet)."""
    end = today - timedelta(days=1)
    return end - timedelta(weeks=weeks) + timedelta(days=1), end


async def _engagement_reports(
    session: AsyncSession, community_ids: Sequence[int], start: date, end: date
) -> dict[int, BaseModel]:
    reports = await engagement_for_communities(session, start, end, community_ids)
    return {report.community_id: report for report in reports}


async def _health_reports(
    session: AsyncSession, community_ids: Sequence[int], _: date, end: date
) -> dict[int, BaseModel]:
    reports = await health_for_communities(session, community_ids, end)
    return {report.community_id: report for report in reports}


BUILDERS: dict[ReportKind, Builder] = {ReportKind.engagement: _engagement_reports,
                                       ReportKind.health: _health_reports}


async def _due(session: AsyncSession, kind: ReportKind, start: date) -> list[int]:
    """Active communities whose latest scheduled report of `kind` ended before `start`: more
    than the schedule's weeks ago, or never."""
    stored = exists().where(ReportRun.community_id == Community.id, ReportRun.kind == kind,
                            ReportRun.trigger == ReportTrigger.schedule,
                            ReportRun.period_end >= start)
    query = (select(Community.id).where(Community.status == CommunityStatus.active, ~stored)
             .order_by(col(Community.id)))
    return list((await session.exec(query)).all())


async def _store(
    session: AsyncSession, kind: ReportKind, reports: dict[int, BaseModel], start: date,
    end: date,
) -> int:
    """Stores the reports not stored yet; returns how many this call stored."""
    now = utcnow()
    rows = [{"kind": kind, "community_id": community_id, "parameters": {},
             "status": ReportRunStatus.done, "result": report.model_dump(mode="json"),
             "trigger": ReportTrigger.schedule, "period_start": start, "period_end": end,
             "created_at": now, "finished_at": now}
            for community_id, report in reports.items()]
    if not rows:
        return 0
    table = ReportRun.__table__
    inserted = await session.exec(
        insert_ignoring_duplicates(session, table).values(rows).returning(table.c.id))
    return len(inserted.all())


async def schedule_reports(ctx: dict[str, Any] | None = None) -> int:
    """Stores the scheduled reports that are due; returns how many it stored."""
    start, end = scheduled_period(utcnow().date(), get_settings().report_every_weeks)
    stored = 0
    for kind in SCHEDULED_KINDS:
        async with session_scope() as session:
            due = await _due(session, kind, start)
        for first in range(0, len(due), SCHEDULE_CHUNK):
            chunk = due[first:first + SCHEDULE_CHUNK]
            # Computed in a read-only transaction, stored in a short write: on SQLite the write
            # lock is held for the INSERT alone.
            async with session_scope() as session:
                reports = await BUILDERS[kind](session, chunk, start, end)
            async with session_scope() as session:
                stored += await _store(session, kind, reports, start, end)
    if stored:
        log.info("stored %d scheduled reports for %s to %s", stored, start, end)
    return stored
