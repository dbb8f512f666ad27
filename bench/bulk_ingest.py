"""bulk_ingest: POST /v1/activities/bulk, 5,000 items a request, one client sending one request
after the other to the real api (as an integration pushing a backlog does), against one COPY of
the very same rows into the empty activity table (foreign keys checked, every index maintained:
what the api's rows must go through too)."""

import json
import time
from datetime import UTC, datetime

import httpx

from bench import datagen, db
from bench.api import admin_headers, api_server, create_admin, create_api_key
from bench.config import BenchConfig
from bench.results import CorrectnessError, Result

TARGET_RATIO = 0.2


async def _prepare(cfg: BenchConfig) -> list[tuple]:
    conn = await db.connect(cfg.database_url)
    try:
        await db.truncate_all(conn)
        base = await datagen.load_base(conn, cfg.sizes, with_rules=False)
        await create_admin(conn)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    count = cfg.sizes.bulk_requests * cfg.sizes.bulk_batch
    records: list[tuple] = []
    for chunk in datagen.generate_activities(base, count, source="bulk", seed=11,
                                             received_at=datetime.now(UTC)):
        records.extend(chunk)
    return records


async def _copy_baseline(cfg: BenchConfig, records: list[tuple]) -> float:
    """Seconds for one COPY of all the rows; the table is emptied again afterwards."""
    conn = await db.connect(cfg.database_url)
    try:
        started = time.perf_counter()
        await datagen.copy_activities(conn, records)
        elapsed = time.perf_counter() - started
        copied = await conn.fetchval("SELECT count(*) FROM activity")
        if copied != len(records):
            raise CorrectnessError(f"COPY stored {copied} of {len(records)} rows")
        await conn.execute("TRUNCATE activity RESTART IDENTITY CASCADE")
        return elapsed
    finally:
        await conn.close()


async def _post_all(cfg: BenchConfig, base_url: str, bodies: list[bytes]) -> float:
    """Seconds from the first request sent to the last response read."""
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as http:
        key = await create_api_key(http, await admin_headers(http), "activities:write")
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        started = time.perf_counter()
        for index, body in enumerate(bodies):
            response = await http.post("/v1/activities/bulk", content=body, headers=headers)
            if response.status_code != 200:
                raise CorrectnessError(f"bulk request {index}: {response.status_code} "
                                       f"{response.text[:500]}")
            result = response.json()
            if result["accepted"] != cfg.sizes.bulk_batch:
                bad = [item for item in result["items"] if item["status"] != "accepted"][:3]
                raise CorrectnessError(f"bulk request {index} accepted {result['accepted']} of "
                                       f"{cfg.sizes.bulk_batch}: {bad}")
        return time.perf_counter() - started


async def _check_stored(cfg: BenchConfig, records: list[tuple]) -> None:
    conn = await db.connect(cfg.database_url)
    try:
        # Pending: not processed, and in the worker's queue.
        stored, pending, buckets_wrong = await conn.fetchrow(
            "SELECT count(*), count(*) FILTER (WHERE processed_at IS NULL AND EXISTS "
            "(SELECT 1 FROM activity_pending p WHERE p.activity_id = activity.id)), "
            "count(*) FILTER (WHERE local_week <> local_day - (extract(isodow FROM local_day)::int"
            " - 1) OR local_month <> date_trunc('month', local_day)::date) FROM activity")
        sample = await conn.fetch(
            "SELECT external_id, member_id, community_id, kind, occurred_at, local_day "
            "FROM activity WHERE external_id = ANY($1::text[])",
            [r[5] for r in records[:: max(1, len(records) // 100)]])
    finally:
        await conn.close()
    if stored != len(records) or pending != len(records) or buckets_wrong:
        raise CorrectnessError(f"after the bulk requests: {stored} activities stored, {pending} "
                               f"pending, {buckets_wrong} with wrong week/month buckets; "
                               f"expected {len(records)} pending")
    expected = {r[5]: (r[0], r[1], r[2], r[3], r[7]) for r in records}
    for row in sample:
        got = (row["member_id"], row["community_id"], row["kind"], row["occurred_at"],
               row["local_day"])
        if got != expected[row["external_id"]]:
            raise CorrectnessError(f"activity {row['external_id']} stored as {got}, sent as "
                                   f"{expected[row['external_id']]}")


async def run(cfg: BenchConfig) -> list[Result]:
    records = await _prepare(cfg)
    batch = cfg.sizes.bulk_batch
    bodies = [json.dumps({"items": [datagen.activity_json(r) for r in records[i:i + batch]]})
              .encode() for i in range(0, len(records), batch)]
    copy_seconds = await _copy_baseline(cfg, records)
    with api_server(cfg) as api:
        http_seconds = await _post_all(cfg, api.base_url, bodies)
    await _check_stored(cfg, records)
    rows = len(records)
    return [Result(
        name="bulk_ingest", value=rows / http_seconds, baseline=rows / copy_seconds,
        target=TARGET_RATIO, unit="rows/s",
        extra={"rows": rows, "requests": len(bodies), "items_per_request": batch,
               "http_seconds": round(http_seconds, 2), "copy_seconds": round(copy_seconds, 2)},
        notes=[f"{len(bodies)} requests x {batch:,} items in {http_seconds:.1f} s "
               f"({http_seconds / len(bodies) * 1000:.0f} ms a request); COPY of the same "
               f"{rows:,} rows {copy_seconds:.1f} s"],
    )]
