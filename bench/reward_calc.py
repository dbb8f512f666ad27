"""reward_calc and worker_rss: 1M pending activities (x BENCH_SCALE) of 20k members, half of them
advocates, in 500 communities, under a few active points rules (some capped per day, week or
month, one limited to some communities) and four tiers with multipliers.

Baseline: one hand-written `INSERT INTO ledger_entry … SELECT …` of the same awards, with
*uncapped* rule semantics (every eligible activity earns: caps need per-period ranking, which is
the worker's work) and the multiplier of the advocate's tier at the start; it writes the same
columns and idempotency keys the worker writes and maintains the same indexes, but moves no
balance, no tier and leaves the activities pending. Its entries are then removed (TRUNCATE) and
the real worker calculation runs over the same pending rows in its own process
(`python -m bench.worker_run`), timed end to end (ledger, balances, tiers, activities marked
processed), its resident memory sampled every 50 ms. Then the outcome is checked against what the
rules say, and a wrong result fails the bench."""

import asyncio
import json
import os
import subprocess
import time

from bench import datagen, db
from bench.config import PYTHON, ROOT, BenchConfig
from bench.console import log
from bench.results import CorrectnessError, Result
from bench.rss import PeakRssSampler

TARGET_RATIO = 0.7
RSS_TARGET_MB = 300.0
# Far beyond any plausible run (at the 0.7 target, 1M activities take well under a minute here).
WORKER_TIMEOUT = 1800

# The activities an active points rule pays for: pending, of an active advocate whose member may
# earn, of the rule's kind, received while the version was in force, inside its window and its
# community filter. Shared by the baseline and the correctness checks.
ELIGIBLE = """
    FROM activity a
    JOIN advocate adv ON adv.member_id = a.member_id AND adv.status = 'active'
    JOIN member m ON m.id = a.member_id AND m.status IN ('active', 'warned')
    JOIN incentive_version iv ON iv.activity_kind = a.kind
         AND iv.effective_from <= a.received_at
         AND (iv.effective_to IS NULL OR a.received_at < iv.effective_to)
         AND (iv.starts_at IS NULL OR a.occurred_at >= iv.starts_at)
         AND (iv.ends_at IS NULL OR a.occurred_at < iv.ends_at)
         AND (iv.terms::jsonb -> 'community_ids' IS NULL
              OR iv.terms::jsonb -> 'community_ids' @> to_jsonb(a.community_id))
    JOIN incentive i ON i.id = iv.incentive_id AND i.kind = 'points_rule'
         AND i.status = 'active'
"""

BASELINE_SQL = f"""
    INSERT INTO ledger_entry (advocate_id, kind, points, reason, activity_id, incentive_id,
                              incentive_version, idempotency_key, created_at, activity_day)
    SELECT adv.id, 'award',
           iv.points * round(coalesce(t.multiplier, 1) * 1000)::int / 1000,
           i.name || ' (v' || iv.version || '): ' || iv.activity_kind,
           a.id, iv.incentive_id, iv.version, 'award:' || a.id || ':' || iv.incentive_id, now(),
           a.local_day
    {ELIGIBLE}
    LEFT JOIN tier t ON t.id = adv.tier_id
    WHERE a.processed_at IS NULL
"""


async def _prepare(cfg: BenchConfig) -> int:
    conn = await db.connect(cfg.database_url)
    try:
        await db.truncate_all(conn)
        base = await datagen.load_base(conn, cfg.sizes)
        loaded = await datagen.load_activities(
            conn, datagen.generate_activities(base, cfg.sizes.activities, source="bench"))
        # As a live system's tables are: statistics known, visibility map set.
        await conn.execute("VACUUM ANALYZE")
        return loaded
    finally:
        await conn.close()


async def _baseline(cfg: BenchConfig) -> tuple[float, int]:
    """Seconds for the INSERT … SELECT, and how many entries it wrote."""
    conn = await db.connect(cfg.database_url)
    try:
        await conn.execute("CHECKPOINT")
        started = time.perf_counter()
        status = await conn.execute(BASELINE_SQL)
        elapsed = time.perf_counter() - started
        written = int(status.split()[-1])
        # Gone without a trace (no dead rows or bloated indexes) before the worker starts.
        await conn.execute("TRUNCATE ledger_entry")
        await conn.execute("CHECKPOINT")
        return elapsed, written
    finally:
        await conn.close()


def _run_worker(cfg: BenchConfig) -> tuple[dict, float, float]:
    """Runs the calculation in its own process: (its report, wall seconds, peak RSS in MB)."""
    env = {**os.environ, "HEARTH_DATABASE_URL": cfg.database_url,
           "HEARTH_REDIS_URL": cfg.redis_url, "HEARTH_JSON_LOGS": "true"}
    started = time.perf_counter()
    process = subprocess.Popen([PYTHON, "-m", "bench.worker_run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with PeakRssSampler(process.pid) as sampler:
        try:
            stdout, stderr = process.communicate(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise CorrectnessError(f"the worker calculation did not finish within "
                                   f"{WORKER_TIMEOUT} s") from None
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise CorrectnessError(f"the worker calculation exited with {process.returncode}:\n"
                               f"{stderr.decode(errors='replace')[-3000:]}")
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    return report, wall, sampler.peak_mb


async def _check(cfg: BenchConfig, activities: int) -> dict:
    """What the rules say must have happened did, exactly; raises CorrectnessError if not."""
    conn = await db.connect(cfg.database_url)
    problems: list[str] = []
    try:
        pending = await conn.fetchval("SELECT count(*) FROM activity WHERE processed_at IS NULL")
        if pending:
            problems.append(f"{pending} activities still pending")
        no_outcome = await conn.fetchval(
            "SELECT count(*) FROM activity WHERE processed_at IS NOT NULL AND outcome IS NULL")
        if no_outcome:
            problems.append(f"{no_outcome} processed activities without an outcome")
        unbalanced = await conn.fetch("""
            SELECT adv.id, adv.balance, adv.lifetime_points, coalesce(l.total, 0) AS total,
                   coalesce(l.earned, 0) AS earned
            FROM advocate adv
            LEFT JOIN (SELECT advocate_id, sum(points) AS total,
                              sum(points) FILTER (WHERE kind IN ('award', 'bonus', 'adjustment'))
                              AS earned
                       FROM ledger_entry GROUP BY advocate_id) l ON l.advocate_id = adv.id
            WHERE adv.balance <> coalesce(l.total, 0)
               OR adv.lifetime_points <> coalesce(l.earned, 0)
            LIMIT 5""")
        if unbalanced:
            problems.append("balance or lifetime points differ from the ledger, e.g. "
                            + "; ".join(str(dict(r)) for r in unbalanced))
        wrong_tier = await conn.fetch("""
            SELECT adv.id, adv.lifetime_points, adv.tier_id,
                   (SELECT t.id FROM tier t WHERE t.min_lifetime_points <= adv.lifetime_points
                    ORDER BY t.min_lifetime_points DESC LIMIT 1) AS expected
            FROM advocate adv
            WHERE adv.tier_id IS DISTINCT FROM
                  (SELECT t.id FROM tier t WHERE t.min_lifetime_points <= adv.lifetime_points
                   ORDER BY t.min_lifetime_points DESC LIMIT 1)
            LIMIT 5""")
        if wrong_tier:
            problems.append("tier is not the one lifetime points reach, e.g. "
                            + "; ".join(str(dict(r)) for r in wrong_tier))
        # Per advocate, rule and cap period: exactly min(eligible, cap) awards (all of them for
        # uncapped rules), and none anywhere else (non-advocates, paused, suspended, other kinds).
        mismatched = await conn.fetch(f"""
            WITH eligible AS (
                SELECT adv.id AS advocate_id, iv.incentive_id,
                       CASE iv.terms::jsonb #>> '{{cap,per}}'
                            WHEN 'day' THEN a.local_day WHEN 'week' THEN a.local_week
                            WHEN 'month' THEN a.local_month END AS bucket,
                       (iv.terms::jsonb #>> '{{cap,max}}')::int AS cap, count(*) AS n
                {ELIGIBLE}
                GROUP BY 1, 2, 3, 4),
            expected AS (
                SELECT advocate_id, incentive_id, bucket, least(n, coalesce(cap, n)) AS awards
                FROM eligible),
            awarded AS (
                SELECT l.advocate_id, l.incentive_id,
                       CASE iv.terms::jsonb #>> '{{cap,per}}'
                            WHEN 'day' THEN a.local_day WHEN 'week' THEN a.local_week
                            WHEN 'month' THEN a.local_month END AS bucket,
                       count(*) AS awards
                FROM ledger_entry l
                JOIN activity a ON a.id = l.activity_id
                JOIN incentive_version iv ON iv.incentive_id = l.incentive_id
                     AND iv.version = l.incentive_version
                WHERE l.kind = 'award'
                GROUP BY 1, 2, 3)
            SELECT coalesce(e.advocate_id, w.advocate_id) AS advocate_id,
                   coalesce(e.incentive_id, w.incentive_id) AS incentive_id,
                   coalesce(e.bucket, w.bucket) AS bucket,
                   e.awards AS expected, w.awards AS awarded
            FROM expected e
            FULL JOIN awarded w ON w.advocate_id = e.advocate_id
                 AND w.incentive_id = e.incentive_id
                 AND w.bucket IS NOT DISTINCT FROM e.bucket
            WHERE e.awards IS DISTINCT FROM w.awards
            LIMIT 5""")
        if mismatched:
            problems.append("awards per advocate, rule and cap period differ from the rules, "
                            "e.g. " + "; ".join(str(dict(r)) for r in mismatched))
        bad_points = await conn.fetchval("""
            SELECT count(*) FROM ledger_entry l
            JOIN incentive_version iv ON iv.incentive_id = l.incentive_id
                 AND iv.version = l.incentive_version
            WHERE l.kind = 'award' AND (l.points < iv.points
                  OR l.points > ceil(iv.points * (SELECT max(multiplier) FROM tier)))""")
        if bad_points:
            problems.append(f"{bad_points} awards outside points x [1, top multiplier]")
        stats = dict(await conn.fetchrow(
            "SELECT count(*) AS entries, coalesce(sum(points), 0) AS points FROM ledger_entry"))
        stats["outcomes"] = {r["outcome"]: r["n"] for r in await conn.fetch(
            "SELECT outcome, count(*) AS n FROM activity GROUP BY 1 ORDER BY 2 DESC")}
        stats["tiers"] = {r["name"]: r["n"] for r in await conn.fetch(
            "SELECT t.name, count(*) AS n FROM advocate a JOIN tier t ON t.id = a.tier_id "
            "GROUP BY 1 ORDER BY 1")}
    finally:
        await conn.close()
    if problems:
        raise CorrectnessError("reward calculation: " + " | ".join(problems))
    return stats


async def run(cfg: BenchConfig) -> list[Result]:
    began = time.perf_counter()
    activities = await _prepare(cfg)
    loaded_in = time.perf_counter() - began
    log(f"  {activities:,} pending activities loaded in {loaded_in:.0f} s")
    baseline_seconds, baseline_entries = await _baseline(cfg)
    log(f"  baseline INSERT…SELECT: {baseline_entries:,} entries in {baseline_seconds:.1f} s")
    report, wall, peak_mb = await asyncio.to_thread(_run_worker, cfg)
    worker_seconds = report["seconds"]
    log(f"  worker: {report['processed']:,} activities in {worker_seconds:.1f} s, peak RSS "
        f"{peak_mb:.0f} MB; checking the outcome")
    stats = await _check(cfg, activities)
    profile_notes = [f"{seconds:8.2f} s {calls:5d}x  {shape}"
                     for seconds, calls, shape in report.get("statements", [])[:10]]
    return [
        Result(name="reward_calc", value=activities / worker_seconds,
               baseline=activities / baseline_seconds, target=TARGET_RATIO, unit="activities/s",
               extra={"activities": activities, "worker_seconds": round(worker_seconds, 2),
                      "worker_wall_seconds": round(wall, 2),
                      "baseline_seconds": round(baseline_seconds, 2),
                      "baseline_entries": baseline_entries, "ledger_entries": stats["entries"],
                      "lanes": report.get("lanes"), "outcomes": stats["outcomes"],
                      "tiers": stats["tiers"]},
               notes=[f"{activities:,} activities (loaded in {loaded_in:.0f} s): worker "
                      f"{worker_seconds:.1f} s ({report.get('lanes')} lanes, "
                      f"{stats['entries']:,} entries, {stats['points']:,} points), "
                      f"INSERT…SELECT {baseline_seconds:.1f} s ({baseline_entries:,} entries, "
                      f"uncapped)",
                      *(["worker time by SQL statement (BENCH_PROFILE=1):", *profile_notes]
                        if profile_notes else [])]),
        Result(name="worker_rss", value=peak_mb, baseline=None, target=RSS_TARGET_MB,
               unit="MB", goal="below",
               extra={"samples_every_ms": 50},
               notes=[f"peak RSS of `python -m bench.worker_run` over {wall:.1f} s"]),
    ]
