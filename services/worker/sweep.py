"""The periodic sweep: the database, not Redis, says what work is pending. Anything queued in the
database but lost from Redis (an outage, a FLUSHALL, an enqueue that failed), or left running by a
worker that died, is queued again. Queueing is idempotent, so a job still in Redis is untouched."""

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select

from shared.db import session_scope
from shared.jobs import FUNCTION_FOR_KIND, enqueue_job_row
from shared.models import Job
from shared.models.base import utcnow
from shared.models.enums import JobStatus

log = logging.getLogger("hearth.worker.sweep")

# arq cancels a run after JOB_TIMEOUT, so a job "running" for longer than that (plus a margin for
# the worker to record the end) is not running any more.
JOB_TIMEOUT = timedelta(minutes=5)
STALE_AFTER = JOB_TIMEOUT + timedelta(minutes=1)
# Enough for any real backlog; the next sweep, a minute later, takes the rest.
SWEEP_LIMIT = 1000


async def sweep_jobs(ctx: dict[str, Any]) -> int:
    stale_before = utcnow() - STALE_AFTER
    query = (
        select(Job.id, Job.kind)
        .where(col(Job.kind).in_(FUNCTION_FOR_KIND))
        .where(or_(col(Job.status) == JobStatus.queued,
                   and_(col(Job.status) == JobStatus.running,
                        col(Job.started_at) < stale_before)))
        .order_by(col(Job.id))
        .limit(SWEEP_LIMIT)
    )
    async with session_scope() as session:
        pending = (await session.exec(query)).all()
    queued = 0
    for job_id, kind in pending:
        queued += await enqueue_job_row(kind, job_id, redis=ctx["redis"])
    if queued:
        log.info("sweep queued %d of %d pending jobs again", queued, len(pending))
    return queued
