import dataclasses
from collections.abc import Awaitable, Callable

import pytest
from arq.worker import create_worker

from services.worker.main import WorkerSettings
from shared import jobs


@pytest.fixture
def run_worker(redis_url: str) -> Callable[[], Awaitable[None]]:
    """Runs the real worker (WorkerSettings: functions, cron sweep, timeouts) against the test
    Redis until its queue is empty."""

    async def _run() -> None:
        worker = create_worker(
            WorkerSettings,
            # Resolved now: WorkerSettings was built when the module was imported, before the
            # fixtures chose this run's Redis.
            redis_settings=jobs.redis_settings(),
            # A cron job remembers its next run; fresh copies make each worker start as a newly
            # started process does, with the sweep that runs at startup.
            cron_jobs=[dataclasses.replace(job, next_run=None) for job in WorkerSettings.cron_jobs],
            burst=True,
            handle_signals=False,
            poll_delay=0.01,
            # Logging belongs to pytest here.
            on_startup=None,
        )
        try:
            await worker.main()
        finally:
            await worker.close()

    return _run
