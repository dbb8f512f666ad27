"""A profiling aid, not a measurement: `python -m bench.explain_worker` loads the reward_calc data
set (BENCH_SCALE applies), prints the plan of the baseline INSERT … SELECT, then runs the worker's
batches: BENCH_EXPLAIN_SKIP of them (default 0) plainly, so the ledger has a history to consult,
then BENCH_EXPLAIN_BATCHES (default 3) with PostgreSQL's auto_explain on, so every statement the
worker sends comes back with its actual plan, timings and buffers. All of it goes to
var/bench-explain.txt.

Needs a superuser connection (LOAD 'auto_explain'), as the bench's default one is."""

import asyncio
import os
import re
import time

from bench import db
from bench.config import VAR_DIR, load_config
from bench.console import log
from bench.reward_calc import BASELINE_SQL, _prepare


def _listen(engine, plans: list[str], collecting: list[bool]) -> None:
    """The engine's connections report their statements' plans to `plans` while
    `collecting[0]` is true when they are checked out."""
    from sqlalchemy import event

    def run(dbapi_connection, *statements: str) -> None:
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection, _record, _proxy) -> None:
        run(dbapi_connection,
            f"SET auto_explain.log_min_duration = {0 if collecting[0] else -1}")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        run(dbapi_connection, "LOAD 'auto_explain'", "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_buffers = on", "SET auto_explain.log_nested_statements = on",
            "SET client_min_messages = log")

        def on_message(_connection, message) -> None:
            text = str(getattr(message, "message", message))
            if "duration:" in text and "plan:" in text:
                # The plan carries the batch's 5,000 ids: shorten the arrays.
                plans.append(re.sub(r"\{(\d+,){8}[\d,]*\}", "{…ids…}", text))

        dbapi_connection._connection.add_log_listener(on_message)


async def _explain_baseline(url: str) -> str:
    conn = await db.connect(url)
    try:
        async with conn.transaction():
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + BASELINE_SQL)
            raise _Rollback(rows)
    except _Rollback as done:
        return "\n".join(r[0] for r in done.rows)
    finally:
        await conn.close()


class _Rollback(Exception):
    def __init__(self, rows: list) -> None:
        super().__init__("rollback")
        self.rows = rows


async def _run() -> None:
    cfg = load_config()
    os.environ["HEARTH_DATABASE_URL"] = cfg.database_url
    await db.create_database_if_missing(cfg.database_url)
    await asyncio.to_thread(db.migrate, cfg.database_url)
    log("loading the reward_calc data set")
    await _prepare(cfg)
    out = [f"BENCH_SCALE={cfg.scale}", "", "=== baseline INSERT … SELECT ===",
           await _explain_baseline(cfg.database_url)]

    from services.worker.rewards import process_batch
    from shared.db import get_engine, reset_engine
    from shared.settings import get_settings

    get_settings.cache_clear()
    reset_engine()
    plans: list[str] = []
    collecting = [False]
    _listen(get_engine(), plans, collecting)
    skip = int(os.environ.get("BENCH_EXPLAIN_SKIP", "0"))
    started = time.perf_counter()
    for _ in range(skip):
        await process_batch()
    log(f"{skip} batches processed plainly in {time.perf_counter() - started:.0f} s")
    collecting[0] = True
    for batch in range(skip, skip + int(os.environ.get("BENCH_EXPLAIN_BATCHES", "3"))):
        plans.clear()
        started = time.perf_counter()
        processed = await process_batch()
        elapsed = time.perf_counter() - started
        out += ["", f"=== worker batch {batch + 1}: {processed} activities in {elapsed:.2f} s "
                    f"(with auto_explain's own overhead) ===", *plans]
        if not processed:
            break
    await get_engine().dispose()
    path = VAR_DIR / "bench-explain.txt"
    path.write_text("\n".join(out) + "\n")
    log(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(_run())
