"""`make bench` / `python -m bench`: the measurements of DESIGN.md section 6 on PostgreSQL.

    HEARTH_BENCH_DATABASE_URL  the database (default postgresql+asyncpg://postgres@127.0.0.1:5432/
                               hearth_bench), created if missing, migrated to head, emptied
                               between measurements: never point it at data you want to keep
    HEARTH_BENCH_REDIS_URL     the Redis the api queues jobs in (default redis://127.0.0.1:6379/14)
    BENCH_SCALE                shrinks every size (0.01 for a quick run; default 1.0)
    BENCH_ONLY                 e.g. reward_calc,status_read: run only these measurements
    BENCH_RECREATE_DB=1        drop and create the database first (after a migration was edited)

Prints a table and writes var/bench.json. Exits 1 when the code under test produced a wrong
result (a correctness check failed), never for a missed performance target."""

import asyncio
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime

from bench import db
from bench.config import BenchConfig, load_config
from bench.console import log as _log
from bench.results import CorrectnessError, Result, table, write_json

# name -> (module, the results it yields); in the order they run
MEASUREMENTS = {
    "reward_calc": "bench.reward_calc",  # also yields worker_rss
    "bulk_ingest": "bench.bulk_ingest",
    "status_read": "bench.status_read",
    "reports": "bench.reports",
}


async def _schema_gaps(cfg: BenchConfig) -> list[str]:
    conn = await db.connect(cfg.database_url)
    try:
        return await db.check_schema(conn)
    finally:
        await conn.close()


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def main() -> int:
    cfg = load_config()
    if cfg.only and (unknown := cfg.only - set(MEASUREMENTS) - {"worker_rss"}):
        raise SystemExit(f"BENCH_ONLY: unknown {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(MEASUREMENTS)}")
    os.environ["HEARTH_DATABASE_URL"] = cfg.database_url
    os.environ["HEARTH_REDIS_URL"] = cfg.redis_url
    _log(f"scale {cfg.scale}: {cfg.sizes}")
    done = asyncio.run(db.create_database_if_missing(
        cfg.database_url, recreate=os.environ.get("BENCH_RECREATE_DB") == "1"))
    shown = db.asyncpg_url(cfg.database_url).render_as_string(hide_password=True)
    _log(f"{done} database {shown}")
    db.migrate(cfg.database_url)
    if gaps := asyncio.run(_schema_gaps(cfg)):
        _log(f"warning: the migrations lack what the models have: {', '.join(gaps[:6])}"
             f"{' …' if len(gaps) > 6 else ''}")

    import importlib

    results: list[Result] = []
    failures: list[str] = []
    started = time.perf_counter()
    for name, module_name in MEASUREMENTS.items():
        if not cfg.wants(name):
            continue
        _log(f"{name} ...")
        began = time.perf_counter()
        try:
            asyncio.run(_flush_redis(cfg.redis_url))
            module = importlib.import_module(module_name)
            produced = asyncio.run(module.run(cfg))
        except CorrectnessError as exc:
            failures.append(f"{name}: {exc}")
            _log(f"{name} FAILED its correctness check: {exc}")
            continue
        except Exception as exc:  # a broken measurement must not hide the others' figures
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            _log(f"{name} crashed:\n{traceback.format_exc()}")
            continue
        results.extend(produced)
        for result in produced:
            _log(f"{result.name}: {result.value:,.1f} {result.unit}"
                 + (f" vs baseline {result.baseline:,.1f}" if result.baseline else "")
                 + f" ({time.perf_counter() - began:.0f} s)")
    _log(f"done in {time.perf_counter() - started:.0f} s")

    print()
    print(table(results))
    meta = {"scale": cfg.scale, "sizes": cfg.sizes.__dict__, "finished_at":
            datetime.now(UTC).isoformat(), "seconds": round(time.perf_counter() - started, 1),
            "python": platform.python_version(), "cpus": os.cpu_count(), "failures": failures}
    write_json(cfg.json_path, results, meta)
    print(f"\nwrote {cfg.json_path}")
    if failures:
        print("\ncorrectness failures:", *failures, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
