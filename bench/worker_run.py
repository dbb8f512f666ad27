"""The reward calculation alone in its own process, as the worker runs it: the pass of
services/worker/rewards.py (its lanes included) until no activity is pending. Prints one JSON
line: {"seconds", "processed", "lanes"}. `python -m bench.worker_run` with HEARTH_DATABASE_URL set.

BENCH_PROFILE=1 runs it under cProfile (stats in var/bench-worker.prof) and adds to the report
the time spent in each SQL statement (summed over the lanes) (by its first words), as the
client sees it: the round trip, PostgreSQL's execution and the driver's work."""

import asyncio
import cProfile
import json
import os
import re
import sys
import time
from collections import defaultdict

from bench.config import VAR_DIR


def _time_statements(engine) -> dict[str, list[float]]:
    """statement shape -> [calls, seconds], from the engine's cursor events."""
    from sqlalchemy import event

    from shared.models.seeds import ACTIVITY_KINDS

    ACTIVITY_KIND_KEYS = {key for key, _, _ in ACTIVITY_KINDS}
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany) -> None:
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        shape = re.sub(r"\s+", " ", statement).strip()
        # One INSERT … SELECT per rule: tell them apart by the activity kind they bind.
        kinds = [p for p in (parameters if isinstance(parameters, (tuple, list)) else ())
                 if isinstance(p, str) and p in ACTIVITY_KIND_KEYS]
        key = shape[:90] + (f" [{kinds[0]}]" if kinds and shape.startswith("INSERT") else "")
        totals[key][0] += 1
        totals[key][1] += elapsed

    return totals


async def _run(profile: bool) -> dict:
    from services.worker.rewards import process_pending_activities
    from shared.db import get_engine
    from shared.logging import configure_logging
    from shared.settings import get_settings

    settings = get_settings()
    configure_logging(json_logs=settings.json_logs, level="WARNING")
    profiler = cProfile.Profile() if profile else None
    statements = _time_statements(get_engine()) if profile else {}
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    processed = await process_pending_activities()
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(VAR_DIR / "bench-worker.prof")
    await get_engine().dispose()
    report = {"seconds": seconds, "processed": processed, "lanes": settings.reward_lanes}
    if profile:
        report["statements"] = sorted(([round(seconds, 3), calls, shape] for shape, (calls, seconds)
                                       in statements.items()), reverse=True)
    return report


def main() -> int:
    report = asyncio.run(_run(os.environ.get("BENCH_PROFILE") == "1"))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
