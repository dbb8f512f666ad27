"""reports: the engagement reports of 500 communities for a month over 1M activities (x
BENCH_SCALE), computed by `shared.metrics.engagement.engagement_for_communities` as the worker's
schedule computes them. Target: under 5 s (DESIGN.md section 6). reports_health: their health
reports as of the period's end, by `shared.metrics.health.health_for_communities`, the other half
of the schedule. Target: under 5 s.

The data: the reward bench's communities, members and skewed activities over 60 days; every
member joined their home community (some of them within the month); a few banned, test and staff
members, whose activity must count nowhere; events with check-ins, feedback with staff responses,
and ledger awards for a tenth of the advocates' activities, so every query of the report has rows.

Baseline: one plain `SELECT community_id, count(*) … GROUP BY community_id` over the activities
the report reads (the month; for health, its two 90-day windows): the least any per-community
report must read, so value / baseline says how many such scans the whole report costs. All are
timed as the median of three runs after a warm-up.

Correctness: the reports of the busiest community computed alone (`engagement`, `health`) must
equal its entries in the set-based results, and its engagement activity counts must match
hand-written SQL."""

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bench import datagen, db
from bench.config import BenchConfig
from bench.console import log
from bench.results import CorrectnessError, Result
from shared.db import make_engine
from shared.metrics.engagement import engagement, engagement_for_communities
from shared.metrics.health import PERIOD_DAYS as HEALTH_PERIOD_DAYS
from shared.metrics.health import health, health_for_communities

TARGET_SECONDS = 5.0
RUNS = 3
PERIOD_DAYS = 30

BASELINE_SQL = """
    SELECT community_id, count(*) FROM activity
    WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY community_id
"""

# Independent of shared.metrics: what the report must say of one community's activity.
CHECK_SQL = """
    SELECT count(*) AS activities, count(DISTINCT a.member_id) AS active_members
    FROM activity a JOIN member m ON m.id = a.member_id
    WHERE a.community_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3
      AND m.status <> 'banned' AND NOT m.is_test
      AND NOT EXISTS (SELECT 1 FROM staff_user s WHERE s.email = m.email_key)
"""


def _period() -> tuple[date, date]:
    """The 30 days up to yesterday (UTC): inside the 60 days of generated history."""
    end = datetime.now(UTC).date() - timedelta(days=1)
    return end - timedelta(days=PERIOD_DAYS - 1), end


async def _prepare(cfg: BenchConfig, start: date) -> int:
    conn = await db.connect(cfg.database_url)
    rng = random.Random(5)
    now = datetime.now(UTC)
    try:
        await db.truncate_all(conn)
        base = await datagen.load_base(conn, cfg.sizes, with_rules=False)
        loaded = await datagen.load_activities(
            conn, datagen.generate_activities(base, cfg.sizes.activities, source="bench"))
        communities, members = base.community_count, base.member_count
        # Every member joined their home community (the one datagen gives 80% of their
        # activity); a quarter of them in the last 40 days, so some are new in the period.
        await conn.copy_records_to_table(
            "membership", columns=["member_id", "community_id", "role", "joined_at",
                                   "created_at"],
            records=[(m, (m % communities) + 1, "organiser" if m <= 2 * communities else "member",
                      now - timedelta(days=rng.uniform(0, 40) if rng.random() < 0.25
                                      else rng.uniform(41, 700)), now)
                     for m in range(1, members + 1)])
        await _load_excluded(conn, members)
        await _load_events_and_feedback(conn, cfg, communities, members, start, rng, now)
        await _load_awards(conn)
        await conn.execute("VACUUM ANALYZE")
        return loaded
    finally:
        await conn.close()


async def _load_excluded(conn, members: int) -> None:
    """1% banned, 0.5% test accounts, and member 1 is also staff: none of them may count."""
    await conn.execute("UPDATE member SET status = 'banned' WHERE id % 100 = 7")
    await conn.execute("UPDATE member SET is_test = true WHERE id % 200 = 3")
    await conn.execute(
        "INSERT INTO staff_user (email, name, role, password_hash, is_active, created_at) "
        "SELECT email_key, name, 'manager', 'x', true, now() FROM member WHERE id = 1")


async def _load_events_and_feedback(conn, cfg: BenchConfig, communities: int, members: int,
                                    start: date, rng: random.Random, now: datetime) -> None:
    """Four events per community in the period with about 20 check-ins each, and about five
    pieces of feedback per community, most of them answered within hours or days."""
    begin = datetime.combine(start, datetime.min.time(), UTC)
    events = []
    for community in range(1, communities + 1):
        for _ in range(4):
            starts = begin + timedelta(hours=rng.uniform(0, 24 * (PERIOD_DAYS - 1)))
            events.append((community, "Meetup", starts, starts + timedelta(hours=2), "in_person",
                           "scheduled", now, now))
    await conn.copy_records_to_table(
        "event", columns=["community_id", "title", "starts_at", "ends_at", "format", "status",
                          "created_at", "updated_at"], records=events)
    await conn.execute("""
        INSERT INTO event_attendance (event_id, member_id, method, checked_in_at)
        SELECT DISTINCT ON (e.id, m.id) e.id, m.id, 'bulk', e.starts_at
        FROM event e CROSS JOIN LATERAL (
            SELECT (floor(random() * $1) + 1)::int AS id FROM generate_series(1, 20)) m
    """, members)
    feedback = []
    for _ in range(5 * communities):
        created = begin + timedelta(hours=rng.uniform(0, 24 * PERIOD_DAYS))
        answered = created + timedelta(hours=rng.expovariate(1 / 30)) if rng.random() < 0.8 \
            else None
        feedback.append(("idea", "An idea", rng.randint(1, members), rng.randint(1, communities),
                         "new", 0, created, answered, created))
    await conn.copy_records_to_table(
        "feedback", columns=["kind", "title", "member_id", "community_id", "status",
                             "vote_count", "created_at", "first_response_at", "updated_at"],
        records=feedback)


async def _load_awards(conn) -> None:
    """Awards for a tenth of the advocates' activities, dated when they happened."""
    await conn.execute("""
        INSERT INTO ledger_entry (advocate_id, kind, points, reason, activity_id,
                                  idempotency_key, created_at)
        SELECT adv.id, 'award', 10, 'bench', a.id, 'bench:' || a.id, a.occurred_at
        FROM activity a JOIN advocate adv ON adv.member_id = a.member_id
        WHERE a.id % 10 = 0
    """)


async def _median_seconds(action: Callable[[], Awaitable[object]]) -> float:
    await action()  # warm-up: caches and plans, as a running system has them
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        await action()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


async def run(cfg: BenchConfig) -> list[Result]:
    start, end = _period()
    loaded = await _prepare(cfg, start)
    log(f"reports: {loaded:,} activities in {cfg.sizes.communities} communities; "
        f"period {start} .. {end}")
    since = datetime.combine(start, datetime.min.time(), UTC)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    # Health reads its 90 days up to the end and the 90 before.
    health_since = until - timedelta(days=2 * HEALTH_PERIOD_DAYS)

    conn = await db.connect(cfg.database_url)
    try:
        baseline = await _median_seconds(lambda: conn.fetch(BASELINE_SQL, since, until))
        health_baseline = await _median_seconds(
            lambda: conn.fetch(BASELINE_SQL, health_since, until))
    finally:
        await conn.close()

    engine = make_engine(cfg.database_url)
    try:
        async with AsyncSession(engine) as session:
            reports: list = []
            health_reports: list = []

            async def compute() -> None:
                reports[:] = await engagement_for_communities(session, start, end)

            async def compute_health() -> None:
                health_reports[:] = await health_for_communities(
                    session, [report.community_id for report in reports], end)

            seconds = await _median_seconds(compute)
            health_seconds = await _median_seconds(compute_health)
            busiest = max(reports, key=lambda r: r.activities)
            alone = await engagement(session, busiest.community_id, start, end)
            health_alone = await health(session, busiest.community_id, end)
    finally:
        await engine.dispose()

    conn = await db.connect(cfg.database_url)
    try:
        expected = await conn.fetchrow(CHECK_SQL, busiest.community_id, since, until)
    finally:
        await conn.close()
    _check(reports, cfg.sizes.communities, busiest, alone, expected)
    _check_health(health_reports, cfg.sizes.communities, health_alone)
    log(f"reports: {len(reports)} reports in {seconds:.2f} s; GROUP BY baseline "
        f"{baseline:.3f} s; community {busiest.community_id}: {busiest.activities} activities, "
        f"{busiest.active_members} active, {busiest.members} members")
    log(f"reports_health: {len(health_reports)} reports in {health_seconds:.2f} s; GROUP BY "
        f"baseline {health_baseline:.3f} s; community {busiest.community_id}: score "
        f"{health_alone.score}")
    return [
        _result("reports", seconds, baseline,
                f"engagement_for_communities over {len(reports)} communities for {PERIOD_DAYS} "
                "days; baseline: one GROUP BY community_id over the same activities",
                communities=len(reports), activities=loaded,
                period_activities=sum(r.activities for r in reports)),
        _result("reports_health", health_seconds, health_baseline,
                f"health_for_communities over {len(health_reports)} communities as of {end}; "
                f"baseline: one GROUP BY community_id over its {2 * HEALTH_PERIOD_DAYS} days of "
                "activities",
                communities=len(health_reports)),
    ]


def _result(name: str, seconds: float, baseline: float, note: str, **extra) -> Result:
    return Result(
        name=name, value=seconds, baseline=baseline, target=TARGET_SECONDS, unit="s",
        goal="below",
        extra={**extra, "times_baseline": round(seconds / baseline, 1) if baseline else None},
        notes=[note])


def _check(reports: list, communities: int, busiest, alone, expected) -> None:
    if len(reports) != communities:
        raise CorrectnessError(f"{len(reports)} reports for {communities} communities")
    if alone != busiest:
        raise CorrectnessError(f"community {busiest.community_id}: engagement() alone differs "
                               f"from engagement_for_communities(): {alone} vs {busiest}")
    got = (busiest.activities, busiest.active_members)
    want = (expected["activities"], expected["active_members"])
    if got != want:
        raise CorrectnessError(f"community {busiest.community_id}: (activities, active members) "
                               f"{got}, hand-written SQL says {want}")
    if not busiest.top_members or not busiest.events or not busiest.feedback_count:
        raise CorrectnessError(f"community {busiest.community_id}: the report misses data the "
                               f"bench loaded: {busiest}")


def _check_health(reports: list, communities: int, alone) -> None:
    if len(reports) != communities:
        raise CorrectnessError(f"{len(reports)} health reports for {communities} communities")
    together = next((r for r in reports if r.community_id == alone.community_id), None)
    if together != alone:
        raise CorrectnessError(f"community {alone.community_id}: health() alone differs from "
                               f"health_for_communities(): {alone} vs {together}")
    components = alone.components
    if not components["activity_trend"].value or not components["organisers"].value:
        raise CorrectnessError(f"community {alone.community_id}: the health report misses data "
                               f"the bench loaded: {alone}")
