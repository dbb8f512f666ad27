"""The Hearth worker: `arq services.worker.main.WorkerSettings`."""

import logging
from datetime import timedelta
from typing import Any

from arq import cron, func

from services.worker.imports import import_members
from services.worker.incentive_preview import preview_incentive, rescore_incentive
from services.worker.maintenance import purge_idempotency_records
from services.worker.moderation import end_suspensions
from services.worker.reports import build_report, schedule_reports
from services.worker.rewards import process_pending_activities, requeue_unqueued
from services.worker.sweep import JOB_TIMEOUT, sweep_jobs
from shared.db import get_engine
from shared.jobs import (
    BUILD_REPORT,
    IMPORT_MEMBERS,
    PREVIEW_INCENTIVE,
    PROCESS_ACTIVITIES,
    RESCORE_INCENTIVE,
    redis_settings,
)
from shared.logging import configure_logging
from shared.settings import get_settings

LONG_JOB_TIMEOUT = timedelta(hours=1)


async def startup(_: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    # The arq command line gives its logger a plain handler of its own; ours (JSON in production,
    # with the rest of Hearth's logs) is the one to keep, else every line is written twice.
    logging.getLogger("arq").handlers.clear()


async def shutdown(_: dict[str, Any]) -> None:
    await get_engine().dispose()


class WorkerSettings:
    functions = [
        func(import_members, name=IMPORT_MEMBERS),
        # Both commit batch by batch, so a long run cut short loses nothing; a backlog of a
        # million activities may take longer than JOB_TIMEOUT.
        func(process_pending_activities, name=PROCESS_ACTIVITIES, timeout=LONG_JOB_TIMEOUT),
        func(preview_incentive, name=PREVIEW_INCENTIVE),
        func(rescore_incentive, name=RESCORE_INCENTIVE, timeout=LONG_JOB_TIMEOUT),
        func(build_report, name=BUILD_REPORT),
    ]
    # Every minute, and at start so a restarted worker picks up pending work at once.
    cron_jobs = [
        cron(sweep_jobs, second=0, run_at_startup=True),
        # Activities still pending (their job lost, Redis down) are awarded within a minute.
        cron(process_pending_activities, second=30, run_at_startup=True,
             timeout=LONG_JOB_TIMEOUT),
        # Pending activities that bypassed the queue (a bulk load, a manual fix): hourly, as it
        # reads the whole activity table.
        cron(requeue_unqueued, minute=45, second=45, run_at_startup=True,
             timeout=LONG_JOB_TIMEOUT),
        # Suspensions that have run out end within five minutes.
        cron(end_suspensions, minute=set(range(0, 60, 5)), second=15, run_at_startup=True),
        # Scheduled reports that are due are stored once a day, and at start so a worker that
        # was down at that hour catches up; a second run stores nothing twice.
        cron(schedule_reports, hour=2, minute=20, second=0, run_at_startup=True,
             timeout=LONG_JOB_TIMEOUT),
        # Idempotency records past their retention go once an hour.
        cron(purge_idempotency_records, minute=7, second=45),
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    job_timeout = JOB_TIMEOUT
    max_jobs = 10
    health_check_interval = 30
    # Every job's outcome is in its database row. arq keeping results too would only block
    # queueing the same job id again (the sweep's retry) for as long as it kept them.
    keep_result = 0
