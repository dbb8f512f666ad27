"""Report runs built by the real arq worker against the real Redis and database: on demand (a
job with progress) and by the schedule (stored once per community and period)."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.worker import reports
from shared import jobs
from shared.db import session_scope
from shared.models import Community, Job, ReportRun
from shared.models.base import utcnow
from shared.settings import get_settings
from tests.api.test_activities import activity, make_community, make_member, post_activities
from tests.api.test_report_runs import start_run
from tests.worker.test_imports import flush_redis, get_job, set_job

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

PERIOD = {"start": "2026-11-01", "end": "2026-11-30"}


async def get_run(client, headers, run_id: int) -> dict:
    response = await client.get(f"/v1/reports/runs/{run_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def get_report(client, headers, name: str, **params) -> dict:
    response = await client.get(f"/v1/reports/{name}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def active_community(client, headers, *, at: datetime) -> int:
    """A community with two members active at `at`."""
    community = await make_community()
    members = [await make_member(f"Member {n}") for n in range(2)]
    await post_activities(client, headers, *[
        activity(member, community_id=community, kind=kind, at=at)
        for member in members for kind in ("talk_given", "post_created")])
    return community


async def scheduled_runs() -> list[tuple[str, int, date, date]]:
    async with session_scope() as session:
        rows = await session.exec(
            select(ReportRun.kind, ReportRun.community_id, ReportRun.period_start,
                   ReportRun.period_end)
            .where(ReportRun.trigger == "schedule").order_by(ReportRun.id))
        return [tuple(row) for row in rows.all()]


# On demand ------------------------------------------------------------------------------------

# Each kind with its run's body and the GET /v1/reports query that must give the same report.
KINDS = [
    ("engagement", {"community": True, **PERIOD}, "engagement", {"community": True, **PERIOD}),
    ("growth", {"community": True, "interval": "week", **PERIOD}, "growth",
     {"community": True, "interval": "week", **PERIOD}),
    ("influence", {"half_life_days": 7, **PERIOD}, "influence",
     {"half_life_days": 7, **PERIOD}),
    ("health", {"community": True, "end": "2026-11-30"}, "health",
     {"community": True, "as_of": "2026-11-30"}),
    ("impact_relevance", {"weights": {"conversion": 1, "attendance": 1, "content": 2,
                                      "talks": 3, "referrals": 0}, **PERIOD},
     "impact-relevance", {"weight_conversion": 1, "weight_attendance": 1, "weight_content": 2,
                          "weight_talks": 3, "weight_referrals": 0, **PERIOD}),
]


@pytest.mark.parametrize(("kind", "body", "path", "query"), KINDS)
async def test_a_run_is_built_and_stored_with_its_progress(client, admin, run_worker, kind, body,
                                                          path, query):
    headers = admin["headers"]
    community = await active_community(client, headers, at=datetime(2026, 11, 20, tzinfo=UTC))

    def with_community(params: dict) -> dict:
        params = dict(params)
        if params.pop("community", False):
            params["community_id"] = community
        return params

    run = await start_run(client, headers, kind=kind, **with_community(body))
    job = await get_job(client, headers, run["job_id"])
    assert job["status"] == "queued" and job["progress"] == 0
    await run_worker()

    stored = await get_run(client, headers, run["id"])
    assert stored["status"] == "done" and stored["finished_at"]
    assert stored["result"] == await get_report(client, headers, path, **with_community(query))
    job = await get_job(client, headers, run["job_id"])
    assert job["status"] == "succeeded" and job["attempts"] == 1
    assert job["progress"] == job["total"] == 1
    assert job["result"] == {"report_run_id": run["id"]} and job["finished_at"]


async def test_a_run_that_redis_lost_is_built_by_the_sweep(client, admin, run_worker, redis_url):
    headers = admin["headers"]
    run = await start_run(client, headers, kind="engagement", **PERIOD)
    await flush_redis(redis_url)
    await run_worker()
    assert (await get_run(client, headers, run["id"]))["status"] == "done"


async def test_a_finished_run_built_again_changes_nothing(client, admin, run_worker):
    headers = admin["headers"]
    community = await active_community(client, headers, at=datetime(2026, 11, 20, tzinfo=UTC))
    run = await start_run(client, headers, kind="engagement", community_id=community, **PERIOD)
    await run_worker()
    done, job = await get_run(client, headers, run["id"]), await get_job(client, headers,
                                                                            run["job_id"])
    # More activity since: a second build of the same run would change its result.
    await active_community(client, headers, at=datetime(2026, 11, 21, tzinfo=UTC))
    assert await jobs.enqueue_job_row("report_build", run["job_id"])
    await run_worker()
    assert await get_run(client, headers, run["id"]) == done
    assert await get_job(client, headers, run["job_id"]) == job


async def test_a_crashed_build_is_retried(client, admin, run_worker, monkeypatch):
    headers = admin["headers"]
    run = await start_run(client, headers, kind="engagement", **PERIOD)
    real_compute, calls = reports.compute, []

    async def crash_the_first_time(session, report_run):
        calls.append(report_run.id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return await real_compute(session, report_run)

    monkeypatch.setattr(reports, "compute", crash_the_first_time)
    await reports.build_report({}, run["job_id"])
    assert (await get_run(client, headers, run["id"]))["status"] == "queued"
    job = await get_job(client, headers, run["job_id"])
    assert job["status"] == "queued" and job["attempts"] == 1

    await run_worker()  # the sweep queues it again
    assert (await get_run(client, headers, run["id"]))["status"] == "done"
    job = await get_job(client, headers, run["job_id"])
    assert job["status"] == "succeeded" and job["attempts"] == 2 and calls == [run["id"]] * 2


async def test_a_run_out_of_attempts_fails_with_its_reason(client, admin, run_worker):
    headers = admin["headers"]
    run = await start_run(client, headers, kind="engagement", **PERIOD)
    await set_job(run["job_id"], attempts=reports.MAX_ATTEMPTS)
    await run_worker()
    stored = await get_run(client, headers, run["id"])
    assert stored["status"] == "failed" and stored["result"] is None and stored["finished_at"]
    job = await get_job(client, headers, run["job_id"])
    assert job["status"] == "failed" and job["progress"] == 0
    assert [error["line"] for error in job["errors"]] == [None]
    assert "attempts" in job["errors"][0]["reason"]


# The schedule ---------------------------------------------------------------------------------


def expected_period() -> tuple[date, date]:
    weeks = get_settings().report_every_weeks
    end = utcnow().date() - timedelta(days=1)
    return end - timedelta(weeks=weeks) + timedelta(days=1), end


async def test_the_schedule_stores_each_active_community_once_per_period(client, admin,
                                                                         run_worker):
    headers = admin["headers"]
    start, end = expected_period()
    recent = datetime.combine(end, datetime.min.time(), UTC)
    active = [await active_community(client, headers, at=recent) for _ in range(2)]
    archived = await make_community()
    async with session_scope() as session:
        community = await session.get(Community, archived)
        community.status = "archived"
        session.add(community)

    await run_worker()  # the cron runs at the worker's start
    stored = await scheduled_runs()
    assert stored == [("engagement", c, start, end) for c in active] + [
        ("health", c, start, end) for c in active]

    await run_worker()
    assert await reports.schedule_reports() == 0
    assert await scheduled_runs() == stored

    async with session_scope() as session:
        runs = (await session.exec(select(ReportRun).where(ReportRun.trigger == "schedule")
                                   .order_by(ReportRun.id))).scalars().all()
    engagement = runs[0]
    assert engagement.status == "done" and engagement.job_id is None
    assert engagement.result == await get_report(
        client, headers, "engagement", community_id=active[0], start=str(start), end=str(end))
    assert engagement.result["active_members"] == 2
    health = runs[2]
    assert health.result == await get_report(client, headers, "health",
                                             community_id=active[0], as_of=str(end))


async def test_two_schedules_at_once_store_each_report_once(client, admin):
    for _ in range(3):
        await make_community()
    counts = await asyncio.gather(reports.schedule_reports(), reports.schedule_reports())
    assert sum(counts) == 6  # engagement and health for three communities, between the two
    assert len(await scheduled_runs()) == 6


async def test_a_community_is_due_again_once_its_report_is_n_weeks_old(client, admin,
                                                                       monkeypatch):
    start, end = expected_period()
    due, not_due = await make_community(), await make_community()  # every 4 weeks
    async with session_scope() as session:
        for community, last_end in ((due, start - timedelta(days=1)), (not_due, start)):
            for kind in ("engagement", "health"):
                session.add(ReportRun(kind=kind, community_id=community, trigger="schedule",
                                      status="done", result={}, period_start=last_end - timedelta(
                                          weeks=4), period_end=last_end))
    assert await reports.schedule_reports() == 2
    assert (await scheduled_runs())[-2:] == [("engagement", due, start, end),
                                            ("health", due, start, end)]

    # HEARTH_REPORT_EVERY_WEEKS sets how often and over how long: every week, the community
    # whose report ended four weeks ago is due, over the last week.
    monkeypatch.setenv("HEARTH_REPORT_EVERY_WEEKS", "1")
    get_settings.cache_clear()
    try:
        assert await reports.schedule_reports() == 2
        assert (await scheduled_runs())[-2:] == [
            ("engagement", not_due, end - timedelta(days=6), end),
            ("health", not_due, end - timedelta(days=6), end)]
        monkeypatch.setenv("HEARTH_REPORT_EVERY_WEEKS", "8")
        get_settings.cache_clear()
        assert await reports.schedule_reports() == 0  # both have a report ending yesterday
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_the_schedule_covers_many_communities_in_chunks(client, admin, monkeypatch):
    monkeypatch.setattr(reports, "SCHEDULE_CHUNK", 4)
    async with session_scope() as session:
        session.add_all([Community(name=f"Chapter {n}", slug=f"chapter-{n}", kind="offline")
                         for n in range(10)])
    assert await reports.schedule_reports() == 20
    async with session_scope() as session:
        per_kind = dict((await session.exec(select(ReportRun.kind, func.count())
                                            .group_by(ReportRun.kind))).all())
        jobs_made = (await session.exec(select(func.count()).select_from(Job))).scalar_one()
    assert per_kind == {"engagement": 10, "health": 10} and jobs_made == 0
