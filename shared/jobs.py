"""The job queue. This is the one module that knows arq (see DESIGN.md section 1): job names, their
queue ids and `enqueue`. Jobs take only ids and plain values; their state lives in the database,
so Redis losing a job only delays it until the worker's sweep queues it again."""

import logging
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.exceptions import RedisError

from shared.models.enums import JobKind
from shared.settings import get_settings, resolve_redis_url

log = logging.getLogger("hearth.jobs")

IMPORT_MEMBERS = "import_members"
# The worker's pass over pending activities (services/worker/rewards.py), queued under one id.
PROCESS_ACTIVITIES = "process_pending_activities"
PREVIEW_INCENTIVE = "preview_incentive"
RESCORE_INCENTIVE = "rescore_incentive"
BUILD_REPORT = "build_report"

# The worker function that runs each kind of `Job` row; the function takes the row's id.
FUNCTION_FOR_KIND: dict[str, str] = {
    JobKind.member_import: IMPORT_MEMBERS,
    JobKind.incentive_preview: PREVIEW_INCENTIVE,
    JobKind.incentive_rescore: RESCORE_INCENTIVE,
    JobKind.report_build: BUILD_REPORT,
}


def redis_settings(*, conn_retries: int = 5) -> RedisSettings:
    settings = RedisSettings.from_dsn(resolve_redis_url(get_settings()))
    settings.conn_retries = conn_retries
    return settings


def queue_id(name: str, job_id: object) -> str:
    """The arq job id: derived from the work, so queueing the same work twice queues it once."""
    return f"{name}:{job_id}"


async def enqueue(name: str, *args: Any, job_id: object, redis: ArqRedis | None = None) -> bool:
    """Queues `name(*args)` unless the same `job_id` is already queued or running.

    Returns whether it was queued now. A Redis outage is logged, not raised: the caller's database
    row already records the work, and the sweep queues it once Redis is back. Pass `redis` to reuse
    a connection (the worker does); otherwise one is opened for this call, failing fast.
    """
    try:
        pool = redis if redis is not None else await create_pool(redis_settings(conn_retries=0))
        try:
            queued = await pool.enqueue_job(name, *args, _job_id=queue_id(name, job_id))
        finally:
            if redis is None:
                await pool.aclose()
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("could not queue %s for %s (the sweep will retry): %s", name, job_id, exc)
        return False
    return queued is not None


async def enqueue_job_row(kind: str, job_id: int, *, redis: ArqRedis | None = None) -> bool:
    """Queues the worker function for a `Job` row of `kind`."""
    name = FUNCTION_FOR_KIND[kind]
    return await enqueue(name, job_id, job_id=job_id, redis=redis)


async def enqueue_reward_calculation() -> bool:
    """Queues the pass over pending activities. All callers share one id: while a pass is queued,
    queueing again adds nothing. What a running pass misses, the next one (or the cron) takes."""
    return await enqueue(PROCESS_ACTIVITIES, job_id="pending")
